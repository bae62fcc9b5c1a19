// One manifest document -> an object of a kind the lab knows, or the refusal kubectl prints:
// missing apiVersion/kind, a kind/version the cluster does not serve, unknown fields or wrong
// types (client-side OpenAPI validation before v1.25, the server's strict decoding since).

import { checkTypeMeta } from './manifest.ts';
import { clientValidationError, decodeProblems, strictDecodingError } from './schema.ts';
import type { KubeObject, KubeProxyConfiguration } from './types.ts';
import { clone, isObject } from './types.ts';

export type Decoded = KubeObject | KubeProxyConfiguration;

export type DecodeResult =
  | { ok: true; obj: Decoded }
  /** `client`: printed as `error: <message>`; `server`: a BadRequest from the server. */
  | { ok: false; side: 'client' | 'server'; message: string };

/** The group/versions each kind is served at, by cluster minor version. */
function servedVersions(kind: string, minor: number): string[] {
  switch (kind) {
    case 'Namespace':
    case 'Node':
    case 'Pod':
    case 'Service':
    case 'Endpoints':
      return ['v1'];
    case 'Deployment':
      return ['apps/v1'];
    case 'EndpointSlice':
      return [...(minor >= 21 ? ['discovery.k8s.io/v1'] : []), ...(minor <= 24 ? ['discovery.k8s.io/v1beta1'] : [])];
    case 'NetworkPolicy':
      return ['networking.k8s.io/v1'];
    case 'KubeProxyConfiguration':
      return ['kubeproxy.config.k8s.io/v1alpha1'];
    default:
      return [];
  }
}

function nameOf(raw: Record<string, unknown>): string {
  const m = raw.metadata;
  return isObject(m) && typeof m.name === 'string' ? m.name : '';
}

function namespaceOf(raw: Record<string, unknown>): string {
  const m = raw.metadata;
  return isObject(m) && typeof m.namespace === 'string' ? m.namespace : '';
}

/** v1beta1 EndpointSlices carry the node in `topology`; the lab keeps the v1 shape. */
function sliceFromBeta(obj: Record<string, unknown>): void {
  if (!Array.isArray(obj.endpoints)) return;
  for (const e of obj.endpoints) {
    if (!isObject(e) || !isObject(e.topology)) continue;
    const host = e.topology['kubernetes.io/hostname'];
    if (typeof host === 'string' && e.nodeName === undefined) e.nodeName = host;
    delete e.topology;
  }
}

export function decodeObject(raw: Record<string, unknown>, minor: number, source: string): DecodeResult {
  const tm = checkTypeMeta(raw, source);
  if (tm) return { ok: false, side: 'client', message: tm };
  const kind = raw.kind as string;
  const apiVersion = raw.apiVersion as string;
  if (!servedVersions(kind, minor).includes(apiVersion)) {
    const version = apiVersion;
    const message =
      minor >= 20
        ? `resource mapping not found for name: ${JSON.stringify(nameOf(raw))} namespace: ${JSON.stringify(namespaceOf(raw))} from ${JSON.stringify(source)}: no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(version)}\nensure CRDs are installed first`
        : `unable to recognize ${JSON.stringify(source)}: no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(version)}`;
    return { ok: false, side: 'client', message };
  }
  const obj = clone(raw);
  if (kind === 'EndpointSlice' && apiVersion.endsWith('v1beta1')) sliceFromBeta(obj);
  const problems = decodeProblems(kind, obj);
  if (minor < 25) {
    const msg = clientValidationError(kind, problems, source);
    if (msg) return { ok: false, side: 'client', message: msg };
  } else {
    const msg = strictDecodingError(kind, apiVersion, problems);
    if (msg) return { ok: false, side: 'server', message: msg };
  }
  if (!isObject(obj.metadata)) obj.metadata = {};
  return { ok: true, obj: obj as unknown as Decoded };
}
