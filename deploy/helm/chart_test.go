// Package helm_test checks the Helm chart in ./plat with the real helm (lint,
// template) and a server-side dry-run apply of every rendered object against a
// real kube-apiserver (internal/kubetest), for several values combinations.
package helm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/platdev/plat/internal/kubetest"
	"github.com/platdev/plat/internal/testtools"
	"github.com/platdev/plat/internal/yamlpos"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// kubeVersion is the version of the API server the tests run (scripts/tools.sh).
const kubeVersion = "1.34.2"

func chartDir(t *testing.T) string {
	return filepath.Join(testtools.RepoRoot(t), "deploy", "helm", "plat")
}

// helm runs the real helm offline with its homes in a temp dir.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(testtools.Bin(t, "helm"), args...)
	cmd.Env = testtools.HelmEnv(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// render lints the chart with values files and sets, then templates it into
// namespace ns and returns the objects.
func render(t *testing.T, ns string, values []string, sets ...string) []*unstructured.Unstructured {
	t.Helper()
	var vargs []string
	for _, v := range values {
		vargs = append(vargs, "-f", filepath.Join("testdata", v))
	}
	for _, s := range sets {
		vargs = append(vargs, "--set", s)
	}
	if out, err := helm(t, append([]string{"lint", "--strict", chartDir(t)}, vargs...)...); err != nil {
		t.Fatalf("helm lint %v: %v\n%s", vargs, err, out)
	}
	out, err := helm(t, append([]string{"template", "plat", chartDir(t), "--namespace", ns, "--kube-version", kubeVersion}, vargs...)...)
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", vargs, err, out)
	}
	var objs []*unstructured.Unstructured
	for _, doc := range yamlpos.SplitDocuments([]byte(out)) {
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	if len(objs) == 0 {
		t.Fatal("helm template rendered nothing")
	}
	return objs
}

// dryRunApply server-side applies every object with dryRun=All and strict
// field validation, so the API server checks schemas, defaults and
// validation without storing anything.
func dryRunApply(t *testing.T, srv *kubetest.Server, ns string, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		if err := applyOne(srv, ns, o); err != nil {
			t.Errorf("dry-run apply of %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

func applyOne(srv *kubetest.Server, ns string, o *unstructured.Unstructured) error {
	dc, err := discovery.NewDiscoveryClientForConfig(srv.Config)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		return err
	}
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	body, err := json.Marshal(o.Object)
	if err != nil {
		return err
	}
	return kubetest.RetryNotFound(func() error {
		_, err := dyn.Resource(m.Resource).Namespace(ns).Patch(context.Background(), o.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
			FieldManager:    "plat-chart-test",
			DryRun:          []string{metav1.DryRunAll},
			FieldValidation: "Strict",
			Force:           ptr(true),
		})
		return err
	})
}

func ptr[T any](v T) *T { return &v }

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string, into any) bool {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			if err := convert(o, into); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return true
		}
	}
	return false
}

func convert(o *unstructured.Unstructured, into any) error {
	b, err := json.Marshal(o.Object)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(into)
}

func kinds(objs []*unstructured.Unstructured) map[string]int {
	k := map[string]int{}
	for _, o := range objs {
		k[o.GetKind()]++
	}
	return k
}

// checkHardened checks the security settings the chart promises on every
// container of a pod.
func checkHardened(t *testing.T, what string, spec corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod security context %+v: want runAsNonRoot and seccomp RuntimeDefault", what, psc)
	}
	if psc != nil && (psc.RunAsUser == nil || *psc.RunAsUser != 65532) {
		t.Errorf("%s: runAsUser is not the image's user 65532", what)
	}
	var tmp bool
	for _, v := range spec.Volumes {
		if v.Name == "tmp" && v.EmptyDir != nil {
			tmp = true
		}
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
			t.Errorf("%s/%s: security context %+v: want read-only root, no privilege escalation, drop ALL", what, c.Name, sc)
		}
		var mounted bool
		for _, m := range c.VolumeMounts {
			if m.Name == "tmp" && m.MountPath == "/tmp" {
				mounted = true
			}
		}
		if !tmp || !mounted {
			t.Errorf("%s/%s: no emptyDir on /tmp under a read-only root file system", what, c.Name)
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: no memory request and limit", what, c.Name)
		}
	}
}

func checkHealthProbes(t *testing.T, what string, c corev1.Container) {
	t.Helper()
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: %s probe %+v, want GET /healthz", what, name, p)
		}
	}
}

func TestChartDefault(t *testing.T) {
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t, "chart-default")
	objs := render(t, ns, nil)
	dryRunApply(t, srv, ns, objs)

	if got, want := kinds(objs), map[string]int{"ServiceAccount": 1, "PersistentVolumeClaim": 1, "Service": 1, "Deployment": 1}; !equalCounts(got, want) {
		t.Errorf("default render has %v, want %v", got, want)
	}
	var d appsv1.Deployment
	if !find(t, objs, "Deployment", "plat-registry", &d) {
		t.Fatal("no registry Deployment")
	}
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("single mode: replicas %d strategy %s, want 1 and Recreate", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	checkHardened(t, "registry", d.Spec.Template.Spec)
	c := d.Spec.Template.Spec.Containers[0]
	checkHealthProbes(t, "registry", c)
	if got := strings.Join(c.Args, " "); got != "registry serve --listen=0.0.0.0:8080 --data=/var/lib/plat/registry" {
		t.Errorf("registry args %q", got)
	}
	if find(t, objs, "PodDisruptionBudget", "plat-registry", &struct{}{}) {
		t.Error("a PodDisruptionBudget over a single replica would block node drains")
	}

	// The default image is the one `make image` names.
	root := testtools.RepoRoot(t)
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	repo := regexp.MustCompile(`(?m)^IMAGE_REPOSITORY \?= (\S+)$`).FindSubmatch(mk)
	ch, err := os.ReadFile(filepath.Join(chartDir(t), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	app := regexp.MustCompile(`(?m)^appVersion: "([^"]+)"$`).FindSubmatch(ch)
	if repo == nil || app == nil {
		t.Fatal("cannot read IMAGE_REPOSITORY from the Makefile or appVersion from Chart.yaml")
	}
	if want := string(repo[1]) + ":" + string(app[1]); c.Image != want {
		t.Errorf("default image %q, want %q (what make image names)", c.Image, want)
	}
}

func TestChartHA(t *testing.T) {
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t, "chart-ha")
	objs := render(t, ns, []string{"ha.yaml"})
	dryRunApply(t, srv, ns, objs)

	var d appsv1.Deployment
	if !find(t, objs, "Deployment", "plat-registry", &d) {
		t.Fatal("no registry Deployment")
	}
	if *d.Spec.Replicas != 3 {
		t.Errorf("replicas %d, want 3", *d.Spec.Replicas)
	}
	checkHardened(t, "registry", d.Spec.Template.Spec)
	c := d.Spec.Template.Spec.Containers[0]
	checkHealthProbes(t, "registry", c)
	if c.LivenessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
		t.Errorf("with TLS the probes must use HTTPS, got %s", c.LivenessProbe.HTTPGet.Scheme)
	}
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"--db=$(PLAT_DB_DSN)", "--blob=$(PLAT_BLOB_URL)", "--auth-config=/etc/plat/auth/auth-config.yaml",
		"--tls-cert=/etc/plat/tls/tls.crt", "--tls-key=/etc/plat/tls/tls.key", "--require-read-token"} {
		if !strings.Contains(args, want) {
			t.Errorf("registry args %q lack %s", args, want)
		}
	}
	if strings.Contains(args, "--data") || strings.Contains(args, "secret@db") {
		t.Errorf("ha args %q must neither use --data nor carry the DSN itself", args)
	}
	if !strings.HasPrefix(c.Image, "ghcr.io/platdev/plat@sha256:0123") {
		t.Errorf("image %q, want pinned by digest", c.Image)
	}
	var env []string
	for _, e := range c.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "plat-registry" {
			t.Errorf("env %s does not come from the Secret", e.Name)
		}
		env = append(env, e.Name)
	}
	if strings.Join(env, ",") != "PLAT_DB_DSN,PLAT_BLOB_URL" {
		t.Errorf("env %v", env)
	}
	var cm corev1.ConfigMap
	if !find(t, objs, "ConfigMap", "plat-registry-auth", &cm) || !strings.Contains(cm.Data["auth-config.yaml"], "token.actions.githubusercontent.com") {
		t.Errorf("trust policy ConfigMap missing or empty: %+v", cm.Data)
	}
	if find(t, objs, "PersistentVolumeClaim", "plat-registry-data", &struct{}{}) {
		t.Error("ha mode must not make a data PVC")
	}
	if k := kinds(objs); k["PodDisruptionBudget"] != 1 || k["Secret"] != 2 || k["ServiceMonitor"] != 0 {
		t.Errorf("ha render has %v, want one PDB, two Secrets, no ServiceMonitor", k)
	}
}

func TestChartDriftSharded(t *testing.T) {
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t, "chart-drift")
	objs := render(t, ns, []string{"drift.yaml"})
	dryRunApply(t, srv, ns, objs)

	var w appsv1.Deployment
	if !find(t, objs, "Deployment", "plat-drift-watch", &w) {
		t.Fatal("no drift watch Deployment")
	}
	checkHardened(t, "drift-watch", w.Spec.Template.Spec)
	wc := w.Spec.Template.Spec.Containers[0]
	checkHealthProbes(t, "drift-watch", wc)
	if wc.Image != "registry.example.com/platform/plat-tofu:0.1.0-tofu1.10.6" {
		t.Errorf("drift image %q", wc.Image)
	}
	var cm corev1.ConfigMap
	if !find(t, objs, "ConfigMap", "plat-drift-watch", &cm) {
		t.Fatal("no drift watch ConfigMap")
	}
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(cm.Data["watch.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg["listen"] != "0.0.0.0:9464" || cfg["interval"] != "30m" || cfg["reports"] != "/var/lib/plat-drift/reports" {
		t.Errorf("watch config %v", cfg)
	}

	var cj batchv1.CronJob
	if !find(t, objs, "CronJob", "plat-drift-check", &cj) {
		t.Fatal("no drift check CronJob")
	}
	js := cj.Spec.JobTemplate.Spec
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion || *js.Completions != 4 || *js.Parallelism != 4 {
		t.Errorf("job: completionMode %v completions %v parallelism %v, want Indexed, 4, 4", js.CompletionMode, *js.Completions, *js.Parallelism)
	}
	pod := js.Template.Spec
	checkHardened(t, "drift-check", pod)
	if len(pod.Containers) != 2 {
		t.Fatalf("drift check pod has %d containers, want check and merge", len(pod.Containers))
	}
	check, merge := pod.Containers[0], pod.Containers[1]
	ca := strings.Join(check.Args, " ")
	for _, want := range []string{"-- /usr/bin/plat drift check --shard=env/4 --pass=$(PLAT_DRIFT_PASS) --format=json",
		"--output=/reports/$(PLAT_DRIFT_PASS)-shard-$(PLAT_SHARD_INDEX).json", "/stacks/orders/out/terraform /stacks/payments/out/terraform /stacks/search/out/terraform"} {
		if !strings.Contains(ca, want) {
			t.Errorf("check args %q lack %q", ca, want)
		}
	}
	ma := strings.Join(merge.Args, " ")
	for _, want := range []string{"--only-index=0", "--wait=/reports/$(PLAT_DRIFT_PASS)-shard-3.json",
		"-- /usr/bin/plat drift merge /reports/$(PLAT_DRIFT_PASS)-shard-0.json /reports/$(PLAT_DRIFT_PASS)-shard-1.json /reports/$(PLAT_DRIFT_PASS)-shard-2.json /reports/$(PLAT_DRIFT_PASS)-shard-3.json --format=markdown"} {
		if !strings.Contains(ma, want) {
			t.Errorf("merge args %q lack %q", ma, want)
		}
	}
	for _, c := range pod.Containers {
		var pass bool
		for _, e := range c.Env {
			if e.Name == "PLAT_DRIFT_PASS" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
				e.ValueFrom.FieldRef.FieldPath == "metadata.labels['batch.kubernetes.io/job-name']" {
				pass = true
			}
		}
		if !pass {
			t.Errorf("%s: PLAT_DRIFT_PASS does not come from the Job's name", c.Name)
		}
	}
	var pvc corev1.PersistentVolumeClaim
	if !find(t, objs, "PersistentVolumeClaim", "plat-drift-check-reports", &pvc) || pvc.Spec.AccessModes[0] != corev1.ReadWriteMany {
		t.Errorf("shared reports PVC missing or not ReadWriteMany: %+v", pvc.Spec)
	}
}

// TestChartServiceMonitor renders the optional ServiceMonitor and dry-runs it
// against a minimal stand-in CRD (testdata/servicemonitor-crd.yaml), since
// the Prometheus Operator's CRD is not available here.
func TestChartServiceMonitor(t *testing.T) {
	srv := kubetest.Shared(t)
	srv.ApplyCRDs(t, filepath.Join("testdata", "servicemonitor-crd.yaml"))
	ns := srv.Namespace(t, "chart-sm")
	objs := render(t, ns, []string{"servicemonitor.yaml"})
	dryRunApply(t, srv, ns, objs)
	var sm unstructured.Unstructured
	if !find(t, objs, "ServiceMonitor", "plat-registry", &sm.Object) {
		t.Fatal("no ServiceMonitor with registry.serviceMonitor.enabled")
	}
	if sm.GetLabels()["release"] != "prometheus" {
		t.Errorf("ServiceMonitor labels %v", sm.GetLabels())
	}
}

// TestDryRunRejects shows that the dry-run is a real check: a misspelt field
// in a rendered Deployment is refused by strict field validation.
func TestDryRunRejects(t *testing.T) {
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t, "chart-bad")
	for _, o := range render(t, ns, nil) {
		if o.GetKind() != "Deployment" {
			continue
		}
		if err := unstructured.SetNestedField(o.Object, int64(2), "spec", "replicaz"); err != nil {
			t.Fatal(err)
		}
		err := applyOne(srv, ns, o)
		if err == nil || !strings.Contains(err.Error(), "replicaz") {
			t.Fatalf("dry-run of a Deployment with spec.replicaz: %v, want a strict-validation error naming it", err)
		}
		return
	}
	t.Fatal("no Deployment rendered")
}

// TestChartRefusesBadValues: values that cannot work fail at render time with
// a message naming the value, never a half-made release.
func TestChartRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"registry.mode=ha"}, "registry.database.existingSecret"},
		{[]string{"registry.mode=cluster"}, "registry.mode must be single or ha"},
		{[]string{"registry.tls.enabled=true"}, "registry.tls.secretName"},
		{[]string{"drift.check.enabled=true"}, "drift.stacks.volume"},
		{[]string{"drift.watch.enabled=true"}, "drift.stacks.volume"},
		{[]string{"image.digest=md5:abc"}, "sha256:"},
	} {
		args := []string{"template", "plat", chartDir(t), "--kube-version", kubeVersion}
		for _, s := range tc.sets {
			args = append(args, "--set", s)
		}
		out, err := helm(t, args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("helm template --set %v: %v\n%s\nwant an error naming %q", tc.sets, err, out, tc.want)
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
