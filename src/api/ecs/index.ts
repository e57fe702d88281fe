/**
 * The ECS operation table: operation name → handler, assembled from one module per area. An operation of
 * the model that is missing here answers UnsupportedFeatureException (see docs/compatibility.md).
 */
import { AccountSettingOperations } from './account-settings.js';
import { AttributeOperations } from './attributes.js';
import { ClusterOperations } from './clusters.js';
import { ContainerInstanceOperations } from './container-instances.js';
import type { EcsDeps, OperationTable } from './context.js';
import { ServiceOperations } from './services.js';
import { TaggingOperations } from './tagging.js';
import { TaskDefinitionOperations } from './task-definitions.js';
import { TaskOperations } from './tasks.js';

export function ecsOperations(deps: EcsDeps): OperationTable {
  const clusters = new ClusterOperations(deps);
  const containerInstances = new ContainerInstanceOperations(deps);
  const attributes = new AttributeOperations(deps);
  const taskDefinitions = new TaskDefinitionOperations(deps);
  const tagging = new TaggingOperations(deps);
  const accountSettings = new AccountSettingOperations(deps);
  const tasks = new TaskOperations(deps);
  const services = new ServiceOperations(deps);
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
    RegisterContainerInstance: containerInstances.RegisterContainerInstance,
    DeregisterContainerInstance: containerInstances.DeregisterContainerInstance,
    DescribeContainerInstances: containerInstances.DescribeContainerInstances,
    ListContainerInstances: containerInstances.ListContainerInstances,
    UpdateContainerInstancesState: containerInstances.UpdateContainerInstancesState,
    PutAttributes: attributes.PutAttributes,
    DeleteAttributes: attributes.DeleteAttributes,
    ListAttributes: attributes.ListAttributes,
    RunTask: tasks.RunTask,
    StartTask: tasks.StartTask,
    StopTask: tasks.StopTask,
    DescribeTasks: tasks.DescribeTasks,
    ListTasks: tasks.ListTasks,
    ExplainPlacement: tasks.ExplainPlacement,
    CreateService: services.CreateService,
    DescribeServices: services.DescribeServices,
    ListServices: services.ListServices,
    UpdateService: services.UpdateService,
    DeleteService: services.DeleteService,
    ListServiceDeployments: services.ListServiceDeployments,
    DescribeServiceDeployments: services.DescribeServiceDeployments,
    StopServiceDeployment: services.StopServiceDeployment,
    UpdateTaskProtection: services.UpdateTaskProtection,
    GetTaskProtection: services.GetTaskProtection,
  } as OperationTable;
}
