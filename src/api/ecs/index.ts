/**
 * The ECS operation table: operation name → handler, assembled from one module per area. An operation of
 * the model that is missing here answers UnsupportedFeatureException (see docs/compatibility.md).
 */
import { AccountSettingOperations } from './account-settings.js';
import { ClusterOperations } from './clusters.js';
import type { EcsDeps, OperationTable } from './context.js';
import { TaggingOperations } from './tagging.js';
import { TaskDefinitionOperations } from './task-definitions.js';

export function ecsOperations(deps: EcsDeps): OperationTable {
  const clusters = new ClusterOperations(deps);
  const taskDefinitions = new TaskDefinitionOperations(deps);
  const tagging = new TaggingOperations(deps);
  const accountSettings = new AccountSettingOperations(deps);
  return {
    CreateCluster: clusters.CreateCluster,
    DescribeClusters: clusters.DescribeClusters,
    ListClusters: clusters.ListClusters,
    UpdateCluster: clusters.UpdateCluster,
    UpdateClusterSettings: clusters.UpdateClusterSettings,
    DeleteCluster: clusters.DeleteCluster,
    RegisterTaskDefinition: taskDefinitions.RegisterTaskDefinition,
    DescribeTaskDefinition: taskDefinitions.DescribeTaskDefinition,
    ListTaskDefinitions: taskDefinitions.ListTaskDefinitions,
    ListTaskDefinitionFamilies: taskDefinitions.ListTaskDefinitionFamilies,
    DeregisterTaskDefinition: taskDefinitions.DeregisterTaskDefinition,
    DeleteTaskDefinitions: taskDefinitions.DeleteTaskDefinitions,
    TagResource: tagging.TagResource,
    UntagResource: tagging.UntagResource,
    ListTagsForResource: tagging.ListTagsForResource,
    PutAccountSetting: accountSettings.PutAccountSetting,
    PutAccountSettingDefault: accountSettings.PutAccountSettingDefault,
    DeleteAccountSetting: accountSettings.DeleteAccountSetting,
    ListAccountSettings: accountSettings.ListAccountSettings,
  } as OperationTable;
}
