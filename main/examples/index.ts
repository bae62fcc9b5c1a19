// The built-in examples, in the article's order (DIGEST sections 1-10).

import type { Example } from './example.ts';
import { podToPod } from './pod-to-pod.ts';
import { podToOutside } from './pod-to-outside.ts';
import { clusterIp } from './clusterip.ts';
import { nodePort } from './nodeport.ts';
import { trafficPolicy } from './traffic-policy.ts';
import { loadBalancer } from './loadbalancer.ts';
import { headless } from './headless.ts';
import { networkPolicy } from './network-policy.ts';
import { conntrackWalk } from './conntrack.ts';

export const EXAMPLES: readonly Example[] = [podToPod, podToOutside, clusterIp, nodePort, trafficPolicy, loadBalancer, headless, networkPolicy, conntrackWalk];
