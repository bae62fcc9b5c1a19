// What a built-in example is: the article's scene as data. The lab is rebuilt from this at
// every `kpl example` (manifests applied, console commands run by the engine of the day), so an
// example never goes stale; its walkthrough and exercises travel with the lab it makes.

import type { ClusterDoc, ProxyLayout } from '../../shared/cluster.ts';
import type { Exercise, Walkthrough } from '../../shared/guide.ts';
import type { ListenSpec } from '../../shared/lab.ts';

/** One thing done to a new lab, in order. */
export type SetupStep =
  /** `kpl apply`: manifests into the cluster. */
  | { kind: 'apply'; yaml: string }
  | { kind: 'lan'; name: string }
  | { kind: 'host'; name: string; listen?: ListenSpec[] }
  | { kind: 'link'; host: string; lan: string; ip: string; dev?: string }
  /** A console line on a host (or `@cluster`'s kubectl, given as argv words). */
  | { kind: 'console'; host: string; command: string };

export interface Example {
  /** The name `kpl example NAME` takes (lower-case, dashes). */
  name: string;
  title: string;
  /** The title in Korean (the article's language). */
  ko?: string;
  /** One or two sentences for the list. */
  summary: string;
  /** Where in the article the scene is (section title). */
  scene: string;
  /** Cluster settings over minikube's defaults; absent for a plain lab of hosts. */
  cluster?: Partial<Omit<ClusterDoc, 'proxy'>>;
  /** The kube-proxy layouts offered, the default first (both where they differ). */
  layouts?: ProxyLayout[];
  seed?: number;
  setup(layout: ProxyLayout): SetupStep[];
  walkthrough(layout: ProxyLayout): Walkthrough;
  exercises?(layout: ProxyLayout): Exercise[];
  /** Notes shown with the lab (Markdown). */
  notes?: string;
}
