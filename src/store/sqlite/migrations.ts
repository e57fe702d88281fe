import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order at start inside one transaction each. Append only: a shipped
 * migration is never edited, because databases in the field have already run it.
 */
const MIGRATIONS: readonly string[] = [
  // 1: the versioned record table, deletion tombstones for the change feed, and the revision counter
  // (kept separately so the revision never goes backwards when the newest records are deleted).
  `CREATE TABLE records (
     kind  TEXT NOT NULL,
     key   TEXT NOT NULL,
     value TEXT NOT NULL,
     rev   INTEGER NOT NULL,
     PRIMARY KEY (kind, key)
   ) WITHOUT ROWID;
   CREATE INDEX records_rev ON records (rev);
   CREATE TABLE tombstones (
     kind TEXT NOT NULL,
     key  TEXT NOT NULL,
     rev  INTEGER NOT NULL,
     PRIMARY KEY (kind, key)
   ) WITHOUT ROWID;
   CREATE INDEX tombstones_rev ON tombstones (rev);
   CREATE TABLE meta_rev (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL);`,
  // 2: the revision counter becomes the single source of the store revision (always present, read inside every
  // write transaction, so several writers on one database number commits correctly), and remembers which
  // writer made the last commit (for pipelined commits: see CommitOptions.chained).
  `INSERT INTO meta_rev (id, rev)
     SELECT 1, COALESCE(MAX(rev), 0) FROM (SELECT MAX(rev) AS rev FROM records UNION ALL SELECT MAX(rev) FROM tombstones)
     WHERE NOT EXISTS (SELECT 1 FROM meta_rev);
   ALTER TABLE meta_rev ADD COLUMN writer TEXT;`,
  // 3: records move to a rowid table with a unique (kind, key) index. Values are JSON documents of a few KiB;
  // in a WITHOUT ROWID table they live in the index B-tree itself and every insert splits pages — a rowid
  // table keeps them apart and measured ~30% less write time per commit.
  `CREATE TABLE records_new (
     id    INTEGER PRIMARY KEY,
     kind  TEXT NOT NULL,
     key   TEXT NOT NULL,
     value TEXT NOT NULL,
     rev   INTEGER NOT NULL,
     UNIQUE (kind, key)
   );
   INSERT INTO records_new (kind, key, value, rev) SELECT kind, key, value, rev FROM records ORDER BY kind, key;
   DROP TABLE records;
   ALTER TABLE records_new RENAME TO records;
   CREATE INDEX records_rev ON records (rev);`,
];

export function migrate(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  let version = row?.version ?? 0;
  if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
  if (version > MIGRATIONS.length) {
    throw new Error(
      `the data directory's database is at schema version ${version}, newer than this Gantry (${MIGRATIONS.length}); upgrade Gantry`,
    );
  }
  while (version < MIGRATIONS.length) {
    const sql = MIGRATIONS[version]!;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
    })();
    version += 1;
  }
  return version;
}
