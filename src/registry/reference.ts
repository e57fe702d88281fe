/**
 * The registry host an image reference names (Docker's rule: the first path component, if it looks like a
 * host — it has a '.' or a ':' or is `localhost`), or undefined for Docker Hub.
 */
export function imageRegistryHost(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}
