// The pod-template-hash of a Deployment's ReplicaSet, as the deployment controller computes it
// (controller.ComputeHash): FNV-32a over go-spew's `%#v` of the v1.PodTemplateSpec (after the API
// server's defaulting), the collision count appended little-endian when set, the decimal sum
// safe-encoded. The struct layouts are those of the v1.19 API (the article's cluster); a newer
// cluster adds fields, so its hashes differ from a real one's (the lab pins names when it matters).

import { spewValue, type GoField, type GoTypes } from './gospew.ts';
import { fnv32a, safeEncodeString } from './hash.ts';
import type { PodTemplateSpec } from './types.ts';

const str = (name: string, json: string): GoField => [name, json, 'string'];

const VOLUME_SOURCES: [string, string, string][] = [
  ['HostPath', 'hostPath', 'HostPathVolumeSource'], ['EmptyDir', 'emptyDir', 'EmptyDirVolumeSource'],
  ['GCEPersistentDisk', 'gcePersistentDisk', 'GCEPersistentDiskVolumeSource'],
  ['AWSElasticBlockStore', 'awsElasticBlockStore', 'AWSElasticBlockStoreVolumeSource'], ['GitRepo', 'gitRepo', 'GitRepoVolumeSource'],
  ['Secret', 'secret', 'SecretVolumeSource'], ['NFS', 'nfs', 'NFSVolumeSource'], ['ISCSI', 'iscsi', 'ISCSIVolumeSource'],
  ['Glusterfs', 'glusterfs', 'GlusterfsVolumeSource'], ['PersistentVolumeClaim', 'persistentVolumeClaim', 'PersistentVolumeClaimVolumeSource'],
  ['RBD', 'rbd', 'RBDVolumeSource'], ['FlexVolume', 'flexVolume', 'FlexVolumeSource'], ['Cinder', 'cinder', 'CinderVolumeSource'],
  ['CephFS', 'cephfs', 'CephFSVolumeSource'], ['Flocker', 'flocker', 'FlockerVolumeSource'], ['DownwardAPI', 'downwardAPI', 'DownwardAPIVolumeSource'],
  ['FC', 'fc', 'FCVolumeSource'], ['AzureFile', 'azureFile', 'AzureFileVolumeSource'], ['ConfigMap', 'configMap', 'ConfigMapVolumeSource'],
  ['VsphereVolume', 'vsphereVolume', 'VsphereVirtualDiskVolumeSource'], ['Quobyte', 'quobyte', 'QuobyteVolumeSource'],
  ['AzureDisk', 'azureDisk', 'AzureDiskVolumeSource'], ['PhotonPersistentDisk', 'photonPersistentDisk', 'PhotonPersistentDiskVolumeSource'],
  ['Projected', 'projected', 'ProjectedVolumeSource'], ['PortworxVolume', 'portworxVolume', 'PortworxVolumeSource'],
  ['ScaleIO', 'scaleIO', 'ScaleIOVolumeSource'], ['StorageOS', 'storageos', 'StorageOSVolumeSource'], ['CSI', 'csi', 'CSIVolumeSource'],
  ['Ephemeral', 'ephemeral', 'EphemeralVolumeSource'],
];

/** v1.19's k8s.io/api/core/v1 and apimachinery meta/v1 layouts reachable from a pod template. */
const V1_19: GoTypes = {
  structs: {
    'v1.PodTemplateSpec': [['ObjectMeta', 'metadata', 'v1.ObjectMeta'], ['Spec', 'spec', 'v1.PodSpec']],
    'v1.ObjectMeta': [
      str('Name', 'name'), str('GenerateName', 'generateName'), str('Namespace', 'namespace'), str('SelfLink', 'selfLink'),
      ['UID', 'uid', 'types.UID'], str('ResourceVersion', 'resourceVersion'), ['Generation', 'generation', 'int64'],
      ['CreationTimestamp', '-', 'v1.Time'], ['DeletionTimestamp', '-', '*v1.Time'], ['DeletionGracePeriodSeconds', 'deletionGracePeriodSeconds', '*int64'],
      ['Labels', 'labels', 'map[string]string'], ['Annotations', 'annotations', 'map[string]string'],
      ['OwnerReferences', 'ownerReferences', '[]v1.OwnerReference'], ['Finalizers', 'finalizers', '[]string'],
      str('ClusterName', 'clusterName'), ['ManagedFields', 'managedFields', '[]v1.ManagedFieldsEntry'],
    ],
    'v1.Time': [['Time', '-', 'time.Time']],
    'time.Time': [['wall', '-', 'uint64'], ['ext', '-', 'int64'], ['loc', '-', '*time.Location']],
    'v1.PodSpec': [
      ['Volumes', 'volumes', '[]v1.Volume'], ['InitContainers', 'initContainers', '[]v1.Container'],
      ['Containers', 'containers', '[]v1.Container'], ['EphemeralContainers', 'ephemeralContainers', '[]v1.EphemeralContainer'],
      ['RestartPolicy', 'restartPolicy', 'v1.RestartPolicy'], ['TerminationGracePeriodSeconds', 'terminationGracePeriodSeconds', '*int64'],
      ['ActiveDeadlineSeconds', 'activeDeadlineSeconds', '*int64'], ['DNSPolicy', 'dnsPolicy', 'v1.DNSPolicy'],
      ['NodeSelector', 'nodeSelector', 'map[string]string'], str('ServiceAccountName', 'serviceAccountName'),
      str('DeprecatedServiceAccount', 'serviceAccount'), ['AutomountServiceAccountToken', 'automountServiceAccountToken', '*bool'],
      str('NodeName', 'nodeName'), ['HostNetwork', 'hostNetwork', 'bool'], ['HostPID', 'hostPID', 'bool'], ['HostIPC', 'hostIPC', 'bool'],
      ['ShareProcessNamespace', 'shareProcessNamespace', '*bool'], ['SecurityContext', 'securityContext', '*v1.PodSecurityContext'],
      ['ImagePullSecrets', 'imagePullSecrets', '[]v1.LocalObjectReference'], str('Hostname', 'hostname'), str('Subdomain', 'subdomain'),
      ['Affinity', 'affinity', '*v1.Affinity'], str('SchedulerName', 'schedulerName'), ['Tolerations', 'tolerations', '[]v1.Toleration'],
      ['HostAliases', 'hostAliases', '[]v1.HostAlias'], str('PriorityClassName', 'priorityClassName'), ['Priority', 'priority', '*int32'],
      ['DNSConfig', 'dnsConfig', '*v1.PodDNSConfig'], ['ReadinessGates', 'readinessGates', '[]v1.PodReadinessGate'],
      ['RuntimeClassName', 'runtimeClassName', '*string'], ['EnableServiceLinks', 'enableServiceLinks', '*bool'],
      ['PreemptionPolicy', 'preemptionPolicy', '*v1.PreemptionPolicy'], ['Overhead', 'overhead', 'v1.ResourceList'],
      ['TopologySpreadConstraints', 'topologySpreadConstraints', '[]v1.TopologySpreadConstraint'],
      ['SetHostnameAsFQDN', 'setHostnameAsFQDN', '*bool'],
    ],
    'v1.PodSecurityContext': [
      ['SELinuxOptions', 'seLinuxOptions', '*v1.SELinuxOptions'], ['WindowsOptions', 'windowsOptions', '*v1.WindowsSecurityContextOptions'],
      ['RunAsUser', 'runAsUser', '*int64'], ['RunAsGroup', 'runAsGroup', '*int64'], ['RunAsNonRoot', 'runAsNonRoot', '*bool'],
      ['SupplementalGroups', 'supplementalGroups', '[]int64'], ['FSGroup', 'fsGroup', '*int64'], ['Sysctls', 'sysctls', '[]v1.Sysctl'],
      ['FSGroupChangePolicy', 'fsGroupChangePolicy', '*v1.PodFSGroupChangePolicy'], ['SeccompProfile', 'seccompProfile', '*v1.SeccompProfile'],
    ],
    'v1.Sysctl': [str('Name', 'name'), str('Value', 'value')],
    'v1.LocalObjectReference': [str('Name', 'name')],
    'v1.Volume': [str('Name', 'name'), ['VolumeSource', '', 'v1.VolumeSource']],
    'v1.VolumeSource': VOLUME_SOURCES.map(([n, j, t]) => [n, j, `*v1.${t}`] as GoField),
    'v1.EmptyDirVolumeSource': [['Medium', 'medium', 'v1.StorageMedium'], ['SizeLimit', 'sizeLimit', '*resource.Quantity']],
    'v1.HostPathVolumeSource': [str('Path', 'path'), ['Type', 'type', '*v1.HostPathType']],
    'v1.Container': [
      str('Name', 'name'), str('Image', 'image'), ['Command', 'command', '[]string'], ['Args', 'args', '[]string'],
      str('WorkingDir', 'workingDir'), ['Ports', 'ports', '[]v1.ContainerPort'], ['EnvFrom', 'envFrom', '[]v1.EnvFromSource'],
      ['Env', 'env', '[]v1.EnvVar'], ['Resources', 'resources', 'v1.ResourceRequirements'],
      ['VolumeMounts', 'volumeMounts', '[]v1.VolumeMount'], ['VolumeDevices', 'volumeDevices', '[]v1.VolumeDevice'],
      ['LivenessProbe', 'livenessProbe', '*v1.Probe'], ['ReadinessProbe', 'readinessProbe', '*v1.Probe'],
      ['StartupProbe', 'startupProbe', '*v1.Probe'], ['Lifecycle', 'lifecycle', '*v1.Lifecycle'],
      str('TerminationMessagePath', 'terminationMessagePath'),
      ['TerminationMessagePolicy', 'terminationMessagePolicy', 'v1.TerminationMessagePolicy'],
      ['ImagePullPolicy', 'imagePullPolicy', 'v1.PullPolicy'], ['SecurityContext', 'securityContext', '*v1.SecurityContext'],
      ['Stdin', 'stdin', 'bool'], ['StdinOnce', 'stdinOnce', 'bool'], ['TTY', 'tty', 'bool'],
    ],
    'v1.ContainerPort': [
      str('Name', 'name'), ['HostPort', 'hostPort', 'int32'], ['ContainerPort', 'containerPort', 'int32'],
      ['Protocol', 'protocol', 'v1.Protocol'], str('HostIP', 'hostIP'),
    ],
    'v1.EnvVar': [str('Name', 'name'), str('Value', 'value'), ['ValueFrom', 'valueFrom', '*v1.EnvVarSource']],
    'v1.EnvVarSource': [
      ['FieldRef', 'fieldRef', '*v1.ObjectFieldSelector'], ['ResourceFieldRef', 'resourceFieldRef', '*v1.ResourceFieldSelector'],
      ['ConfigMapKeyRef', 'configMapKeyRef', '*v1.ConfigMapKeySelector'], ['SecretKeyRef', 'secretKeyRef', '*v1.SecretKeySelector'],
    ],
    'v1.ObjectFieldSelector': [str('APIVersion', 'apiVersion'), str('FieldPath', 'fieldPath')],
    'v1.ResourceRequirements': [['Limits', 'limits', 'v1.ResourceList'], ['Requests', 'requests', 'v1.ResourceList']],
    'v1.VolumeMount': [
      str('Name', 'name'), ['ReadOnly', 'readOnly', 'bool'], str('MountPath', 'mountPath'), str('SubPath', 'subPath'),
      ['MountPropagation', 'mountPropagation', '*v1.MountPropagationMode'], str('SubPathExpr', 'subPathExpr'),
    ],
  },
  named: {
    'types.UID': 'string', 'v1.RestartPolicy': 'string', 'v1.DNSPolicy': 'string', 'v1.Protocol': 'string',
    'v1.TerminationMessagePolicy': 'string', 'v1.PullPolicy': 'string', 'v1.StorageMedium': 'string',
    'v1.PreemptionPolicy': 'string', 'v1.MountPropagationMode': 'string', 'v1.HostPathType': 'string',
    'v1.PodFSGroupChangePolicy': 'string', 'v1.ResourceName': 'string',
    'v1.ResourceList': 'map[v1.ResourceName]resource.Quantity',
  },
  custom: {
    // Fields the template never carries a value for: their zero values.
    'v1.Time': () => '{Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}',
    'resource.Quantity': (v) => spewQuantity(v),
  },
};

/** resource.Quantity as ParseQuantity leaves it: an int64Amount, no inf.Dec, no cached string. */
function spewQuantity(v: unknown): string {
  const s = String(v ?? '0');
  const m = /^([+-]?[0-9.]+)([a-zA-Z]*)$/.exec(s);
  let value = 0, scale = 0, format = 'DecimalSI';
  if (m) {
    const [intPart, frac = ''] = m[1].split('.');
    value = Number(intPart + frac);
    scale = -frac.length;
    const suf = m[2];
    const bin: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
    const dec: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
    if (suf in bin) {
      value = value * 2 ** bin[suf] * 10 ** scale;
      scale = 0;
      format = 'BinarySI';
    } else scale += dec[suf] ?? 0;
    while (value !== 0 && value % 10 === 0 && format === 'DecimalSI') {
      value /= 10;
      scale++;
    }
  }
  return `{i:(resource.int64Amount){value:(int64)${value} scale:(resource.Scale)${scale}} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) Format:(resource.Format)${format}}`;
}

/** The `%#v` text the hash is taken over (exposed for tests). */
export function spewPodTemplate(template: PodTemplateSpec): string {
  return spewValue(V1_19, 'v1.PodTemplateSpec', template);
}

/** controller.ComputeHash(template, collisionCount). `template` must carry the API defaults. */
export function computePodTemplateHash(template: PodTemplateSpec, collisionCount?: number): string {
  const bytes = new TextEncoder().encode(spewPodTemplate(template));
  let extra: Uint8Array | undefined;
  if (collisionCount !== undefined && collisionCount !== null) {
    extra = new Uint8Array(8);
    const c = collisionCount >>> 0;
    extra[0] = c & 255;
    extra[1] = (c >>> 8) & 255;
    extra[2] = (c >>> 16) & 255;
    extra[3] = (c >>> 24) & 255;
  }
  return safeEncodeString(String(fnv32a(bytes, extra)));
}
