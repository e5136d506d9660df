package terraform

import (
	"context"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// run runs tofu with args in dir, its stdout into stdout and its stderr into
// the slot's buffer (reset first). A cancelled ctx interrupts tofu (SIGINT), so
// it releases its state lock and exits; it is killed when it is still running
// InterruptGrace later.
//
// plat runs tofu itself rather than through terraform-exec, which starts a
// `tofu version` process before a handle's first command and reads the whole
// of `tofu show -json` into memory before decoding it twice (BENCHMARKS.md,
// "A big stack"). The environment is the one terraform-exec gives tofu:
// TF_IN_AUTOMATION set, tofu's own logging off (it would mix with the
// diagnostics plat reports) and TF_WORKSPACE dropped, so the workspace checked
// is the one selected in the directory.
func (c *Checker) run(ctx context.Context, s *slot, dir string, stdout io.Writer, args ...string) error {
	s.stderr.Reset()
	cmd := exec.CommandContext(ctx, c.opts.Binary, args...)
	cmd.Dir = dir
	cmd.Env = c.environ()
	cmd.Stdout = stdout
	cmd.Stderr = &s.stderr
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = c.opts.InterruptGrace
	return cmd.Run()
}

// environ is the environment tofu runs with (see run).
func (c *Checker) environ() []string {
	env := map[string]string{}
	if c.opts.Env != nil {
		maps.Copy(env, c.opts.Env)
		if _, ok := env["CHECKPOINT_DISABLE"]; !ok {
			env["CHECKPOINT_DISABLE"] = os.Getenv("CHECKPOINT_DISABLE")
		}
	} else {
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
	}
	for _, k := range []string{"TF_LOG", "TF_LOG_CORE", "TF_LOG_PATH", "TF_LOG_PROVIDER"} {
		env[k] = ""
	}
	env["TF_IN_AUTOMATION"] = "1"
	delete(env, "TF_WORKSPACE")
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}
