// Test fixture: a lab holding a minikube-like cluster, with a console helper.

import { defaultCluster, type ClusterDoc } from '../../../shared/cluster.ts';
import { emptyLab } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';

export interface ClusterLab {
  lab: Lab;
  /** Runs a console line on a host (`@cluster` for the cluster's own kubectl); fails the test on a shell syntax error. */
  sh: (host: string, line: string, stdin?: string) => { stdout: string; stderr: string; code: number };
  apply: (yaml: string) => void;
}

export function clusterLab(opts: Partial<ClusterDoc> = {}, seed = 1): ClusterLab {
  const doc = emptyLab('test');
  doc.seed = seed;
  doc.cluster = { ...defaultCluster(), ...opts };
  const lab = Lab.fromDoc(doc);
  const sh = (host: string, line: string, stdin?: string) => {
    if (host === '@cluster' || stdin !== undefined) {
      const argv = line.split(' ');
      const r = lab.exec(host, argv, stdin ?? '');
      return { stdout: r.stdout, stderr: r.stderr, code: r.code };
    }
    const r = lab.console(host, [line]);
    if (!r) throw new Error(`incomplete console line: ${line}`);
    return { stdout: r.stdout, stderr: r.stderr, code: r.code };
  };
  const apply = (yaml: string) => {
    const r = sh('@cluster', 'kubectl apply -f -', yaml);
    if (r.code !== 0) throw new Error(`apply failed: ${r.stderr}`);
  };
  return { lab, sh, apply };
}

/** Rows of a listing as word lists (what `| column -t` leaves comparable). */
export function words(text: string): string[][] {
  return text.trimEnd().split('\n').map((l) => l.trim().split(/\s+/));
}

export const WEBAPP_NODEPORT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: webapp
  labels:
    app: webapp
  annotations:
    lab.kpl.dev/pod-ips: "10.244.120.102,10.244.120.103"
spec:
  replicas: 2
  selector:
    matchLabels:
      app: webapp
  template:
    metadata:
      labels:
        app: webapp
    spec:
      nodeName: minikube
      containers:
      - name: nginx
        image: nginx:1.14.2
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: webapp
spec:
  type: NodePort
  clusterIP: 10.103.46.104
  selector:
    app: webapp
  ports:
    - port: 80
      targetPort: 80
      nodePort: 31380
`;

/** The article's externalTrafficPolicy Local scene: one nginx pod on minikube, two nodes. */
export const WEBAPP_LOCAL = `apiVersion: v1
kind: Pod
metadata:
  name: nginx-deployment-7759cc5c66-p45tz
  labels:
    app: webserver
  annotations:
    lab.kpl.dev/ip: 10.244.120.111
spec:
  nodeName: minikube
  containers:
  - name: nginx
    image: nginx:1.14.2
    ports:
    - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: webapp
spec:
  type: NodePort
  clusterIP: 10.111.243.62
  externalTrafficPolicy: Local
  selector:
    app: webserver
  ports:
  - port: 80
    targetPort: 80
    nodePort: 30080
`;
