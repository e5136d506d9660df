// Package drift compares live infrastructure with what a stack declares and reports
// every changed attribute. Terraform/OpenTofu stacks are checked with a refresh-only
// plan; Crossplane stacks against the live objects of a Kubernetes cluster. Both
// produce the same Report.
package drift

import "time"

// SchemaVersion identifies the JSON report format. Bump it on any incompatible change.
const SchemaVersion = "plat.dev/drift-report/v1"

// Status is the outcome of checking one stack.
type Status string

// Stack statuses.
const (
	StatusClean   Status = "clean"   // live matches declared
	StatusDrifted Status = "drifted" // at least one resource differs
	StatusError   Status = "error"   // the stack could not be checked
)

// Kind says how a stack is checked.
type Kind string

// Stack kinds.
const (
	KindTerraform  Kind = "terraform"
	KindCrossplane Kind = "crossplane"
)

// Action says how a resource drifted.
type Action string

// Resource drift actions.
const (
	ActionChanged Action = "changed" // attributes differ; see Changes
	ActionDeleted Action = "deleted" // declared, but gone from the live side
)

// Report is the result of one drift pass over one or more stacks.
type Report struct {
	SchemaVersion string        `json:"schemaVersion"`
	StartedAt     time.Time     `json:"startedAt"`
	DurationMS    int64         `json:"durationMs"`
	Summary       Summary       `json:"summary"`
	Stacks        []StackReport `json:"stacks"`
	// Pass names the drift pass the report belongs to (--pass, $PLAT_DRIFT_PASS).
	// Shard and merged reports always have one; a whole pass only when given.
	Pass string `json:"pass,omitempty"`
	// Shard says which part of a sharded pass the report covers; nil for a
	// whole pass and for a merged report.
	Shard *ShardInfo `json:"shard,omitempty"`
	// Merged describes the shard reports a merged report was made from; nil
	// otherwise.
	Merged *MergeInfo `json:"merged,omitempty"`
}

// ShardInfo is the part of a sharded pass one shard report covers.
type ShardInfo struct {
	// Index and Count are I and N of --shard I/N.
	Index int `json:"index"`
	Count int `json:"count"`
	// Stacks are the stack directories this shard checked, in pass order; empty
	// (never null) when the hash gave it none.
	Stacks []string `json:"stacks"`
	// PassStacks are all the stack directories of the pass, as the shard was
	// given them. Merge checks that every shard saw the same ones, and reports
	// stacks in their order.
	PassStacks []string `json:"passStacks"`
}

// MergeInfo describes the shards of a merged report.
type MergeInfo struct {
	Shards []MergedShard `json:"shards"`
}

// MergedShard is one shard report that went into a merged report.
type MergedShard struct {
	Index      int       `json:"index"`
	Stacks     int       `json:"stacks"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMS int64     `json:"durationMs"`
}

// Summary counts stacks by status and drifted resources overall.
type Summary struct {
	Stacks           int `json:"stacks"`
	Clean            int `json:"clean"`
	Drifted          int `json:"drifted"`
	Errors           int `json:"errors"`
	DriftedResources int `json:"driftedResources"`
}

// StackReport is the result for one stack directory.
type StackReport struct {
	// Dir is the stack directory as given by the user.
	Dir       string          `json:"dir"`
	Kind      Kind            `json:"kind"`
	Status    Status          `json:"status"`
	Resources []ResourceDrift `json:"resources,omitempty"`
	Error     string          `json:"error,omitempty"`
	// Ignored counts drifted resources and attribute changes dropped by ignore rules.
	Ignored    int   `json:"ignored,omitempty"`
	DurationMS int64 `json:"durationMs"`
}

// ResourceDrift is one drifted resource.
type ResourceDrift struct {
	// Address is the Terraform resource address (module.db.aws_db_instance.this)
	// or, for Kubernetes objects, apiVersion/Kind/namespace/name.
	Address string `json:"address"`
	// Type is the Terraform resource type or the Kubernetes Kind.
	Type    string            `json:"type"`
	Action  Action            `json:"action"`
	Changes []AttributeChange `json:"changes,omitempty"`
	// Conditions are a managed resource's Synced/Ready conditions, when present.
	Conditions []Condition `json:"conditions,omitempty"`
}

// AttributeChange is one leaf attribute whose live value differs from the declared one.
type AttributeChange struct {
	// Path is the attribute path, dot-separated with [i] for list indexes
	// (tags.team, rule[0].apply_server_side_encryption_by_default.sse_algorithm,
	// spec.forProvider.region).
	Path string `json:"path"`
	// Declared and Live are JSON values; both are "(sensitive)" when either side is
	// marked sensitive. A nil Live means the attribute is gone.
	Declared any `json:"declared"`
	Live     any `json:"live"`
	// Sensitive is true when the values were masked.
	Sensitive bool `json:"sensitive,omitempty"`

	// The fields below say where the attribute comes from (see Tracer and
	// docs/drift.md). They are set only for stacks that carry a render record.

	// Stack is the stack-file parameter the attribute traces back to.
	Stack *StackField `json:"stack,omitempty"`
	// Traced is false when the attribute traces back to no stack-file
	// parameter; Origin then says what decided its value, where known.
	Traced *bool `json:"traced,omitempty"`
	// Origin is OriginDefault when Stack names a parameter the stack file does
	// not set (the template's default), and for untraced attributes one of
	// OriginDerived, OriginProvider or OriginComputed.
	Origin string `json:"origin,omitempty"`
	// Input is the module input (Terraform) the attribute is set from, and
	// Function the module's expression when it is a function of that input
	// rather than the input itself (tostring(var.replicas)).
	Input    string `json:"input,omitempty"`
	Function string `json:"function,omitempty"`
	// Guardrail is the template guardrail the live value breaks.
	Guardrail *GuardrailViolation `json:"guardrail,omitempty"`
}

// StackField is the place in the stack file a drifted attribute comes from.
type StackField struct {
	// File is the stack file as plat render named it; Line and Col point at
	// the parameter's value or, when the stack file does not set it, at the
	// resource's with: (where plat drift accept adds it).
	File      string `json:"file"`
	Line      int    `json:"line"`
	Col       int    `json:"col"`
	Resource  string `json:"resource"`
	Parameter string `json:"parameter"`
	// Declared is the parameter's value; Live the value that would produce
	// the live attribute, present only when the mapping is direct or
	// invertible.
	Declared any `json:"declared"`
	Live     any `json:"live,omitempty"`
}

// GuardrailViolation is a template guardrail that the live state breaks.
type GuardrailViolation struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// Origins of untraced attributes (AttributeChange.Origin).
const (
	OriginDefault  = "default"  // the template's default for a parameter the stack does not set
	OriginDerived  = "derived"  // computed by the template or the module from several values, or fixed by them
	OriginProvider = "provider" // not set by the module: the provider's default or a value it computes
	OriginComputed = "computed" // computed by the provider after creation
)

// Condition is a Kubernetes status condition (Synced, Ready).
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Masked replaces sensitive values in every report format.
const Masked = "(sensitive)"
