// The article's console sessions, rebuilt from its manifests with its addresses pinned: the
// lab's kubectl must print what the article printed (DIGEST sections 8 and 9).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cells, makeLab } from './cluster.ts';

const WEBAPP = `apiVersion: apps/v1
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

const AGE_3D13H = 3 * 86400 + 13 * 3600;

test('article: kubectl get svc webapp (NodePort 80:31380/TCP, 3d13h)', () => {
  const lab = makeLab({ nodes: ['minikube'] });
  const r = lab.run('kubectl apply -f -', WEBAPP);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'deployment.apps/webapp created\nservice/webapp created\n');
  lab.clock.t = AGE_3D13H;
  const out = lab.run('kubectl get svc webapp').stdout;
  // kubectl's own spacing (padding 3) ...
  assert.equal(
    out,
    'NAME     TYPE       CLUSTER-IP      EXTERNAL-IP   PORT(S)        AGE\n' +
      'webapp   NodePort   10.103.46.104   <none>        80:31380/TCP   3d13h\n',
  );
  // ... and the article's cells (its block was re-spaced with two blanks).
  assert.deepEqual(cells(out), cells(`NAME    TYPE      CLUSTER-IP     EXTERNAL-IP  PORT(S)       AGE
webapp  NodePort  10.103.46.104  <none>       80:31380/TCP  3d13h`));
});

test('article: kubectl get ep webapp lists both pod endpoints', () => {
  const lab = makeLab({ nodes: ['minikube'] });
  lab.run('kubectl apply -f -', WEBAPP);
  lab.clock.t = AGE_3D13H;
  const out = lab.run('kubectl get ep webapp').stdout;
  assert.equal(out, 'NAME     ENDPOINTS                             AGE\nwebapp   10.244.120.102:80,10.244.120.103:80   3d13h\n');
  assert.deepEqual(cells(out), cells(`NAME    ENDPOINTS                            AGE
webapp  10.244.120.102:80,10.244.120.103:80  3d13h`));
});

const NGINX_LOCAL = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  annotations:
    lab.kpl.dev/pod-names: nginx-deployment-7759cc5c66-p45tz
    lab.kpl.dev/pod-ips: 10.244.120.111
spec:
  replicas: 1
  selector:
    matchLabels:
      app: webserver
  template:
    metadata:
      labels:
        app: webserver
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
  externalTrafficPolicy: Local
  clusterIP: 10.111.243.62
  selector:
    app: webserver
  ports:
  - port: 80
    targetPort: 80
    nodePort: 30080
`;

/** The two-node scene: minikube 6d1h old, minikube-m02 joined 85m ago, nginx deployed 29m ago. */
function twoNodeScene() {
  const lab = makeLab({ nodes: ['minikube'] });
  lab.clock.t = 6 * 86400 + 3600 - 85 * 60;
  lab.run('kubectl apply -f -', 'apiVersion: v1\nkind: Node\nmetadata:\n  name: minikube-m02\nstatus:\n  addresses:\n  - type: InternalIP\n    address: 192.168.49.3\n');
  lab.clock.t = 6 * 86400 + 3600 - 29 * 60;
  const r = lab.run('kubectl apply -f -', NGINX_LOCAL);
  assert.equal(r.code, 0, r.stderr);
  lab.clock.t = 6 * 86400 + 3600;
  return lab;
}

test('article: kubectl get nodes on the v1.19.2 minikube (ROLES master)', () => {
  const lab = twoNodeScene();
  assert.equal(
    lab.run('kubectl get nodes').stdout,
    `NAME           STATUS   ROLES    AGE    VERSION
minikube       Ready    master   6d1h   v1.19.2
minikube-m02   Ready    <none>   85m    v1.19.2
`,
  );
});

test('article: kubectl get pods NAME -o wide', () => {
  const lab = twoNodeScene();
  assert.equal(
    lab.run('kubectl get pods nginx-deployment-7759cc5c66-p45tz -o wide').stdout,
    `NAME                                READY   STATUS    RESTARTS   AGE   IP               NODE       NOMINATED NODE   READINESS GATES
nginx-deployment-7759cc5c66-p45tz   1/1     Running   0          29m   10.244.120.111   minikube   <none>           <none>
`,
  );
});

test('article: -o wide -o jsonpath={.spec.externalTrafficPolicy} prints Local (last -o wins)', () => {
  const lab = twoNodeScene();
  const r = lab.run(['kubectl', 'get', 'svc', 'webapp', '-o', 'wide', '-o', 'jsonpath={.spec.externalTrafficPolicy}']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'Local');
});

test('article: kubectl get svc webapp -o wide shows the SELECTOR', () => {
  const lab = twoNodeScene();
  assert.equal(
    lab.run('kubectl get svc webapp -o wide').stdout,
    `NAME     TYPE       CLUSTER-IP      EXTERNAL-IP   PORT(S)        AGE   SELECTOR
webapp   NodePort   10.111.243.62   <none>        80:30080/TCP   29m   app=webserver
`,
  );
});

test('article: headless webapp-hs (ClusterIP None) and its endpoints', () => {
  const lab = makeLab({ nodes: ['minikube'] });
  lab.run('kubectl apply -f -', WEBAPP.split('---')[0].replace('10.244.120.102,10.244.120.103', '10.244.120.109,10.244.120.110'));
  lab.run('kubectl apply -f -', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: webapp-hs\nspec:\n  clusterIP: None\n  selector:\n    app: webapp\n  ports:\n  - port: 80\n');
  lab.clock.t = 24;
  assert.equal(
    lab.run('kubectl get svc webapp-hs').stdout,
    `NAME        TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
webapp-hs   ClusterIP   None         <none>        80/TCP    24s
`,
  );
  lab.clock.t = 31;
  assert.equal(
    lab.run('kubectl get ep webapp-hs').stdout,
    `NAME        ENDPOINTS                             AGE
webapp-hs   10.244.120.109:80,10.244.120.110:80   31s
`,
  );
});

test('the current release prints ROLES control-plane', () => {
  const lab = makeLab({ version: 'v1.34.1', nodes: ['minikube', 'minikube-m02'] });
  lab.clock.t = 600;
  assert.equal(
    lab.run('kubectl get nodes').stdout,
    `NAME           STATUS   ROLES           AGE   VERSION
minikube       Ready    control-plane   10m   v1.34.1
minikube-m02   Ready    <none>          10m   v1.34.1
`,
  );
});
