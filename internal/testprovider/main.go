// Command terraform-provider-platjson is a test-only Terraform provider. Its one
// resource, platjson_document, keeps a JSON document on disk and reads it back on
// every refresh, so editing the file behind tofu's back produces real in-place
// drift with attribute paths (content.team, rules[0].port) and a sensitive
// attribute (secret). plat's drift tests build it into a provider mirror; it is
// never shipped.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return platjson{} },
		providerserver.ServeOpts{Address: "registry.opentofu.org/plat/platjson"})
	if err != nil {
		log.Fatal(err)
	}
}

type platjson struct{}

func (platjson) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "platjson"
	resp.Version = "0.1.0"
}

func (platjson) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (platjson) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {}

func (platjson) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return document{} }}
}

func (platjson) DataSources(context.Context) []func() datasource.DataSource { return nil }

type document struct{}

type docModel struct {
	ID      types.String      `tfsdk:"id"`
	Path    types.String      `tfsdk:"path"`
	Content map[string]string `tfsdk:"content"`
	Rules   []ruleModel       `tfsdk:"rules"`
	Secret  types.String      `tfsdk:"secret"`
}

type ruleModel struct {
	Name types.String `tfsdk:"name"`
	Port types.Int64  `tfsdk:"port"`
}

// onDisk is the JSON document the resource manages.
type onDisk struct {
	Content map[string]string `json:"content,omitempty"`
	Rules   []ruleOnDisk      `json:"rules,omitempty"`
	Secret  *string           `json:"secret,omitempty"`
}

type ruleOnDisk struct {
	Name string `json:"name"`
	Port int64  `json:"port"`
}

func (document) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_document"
}

func (document) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"path": schema.StringAttribute{Required: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"content": schema.MapAttribute{Optional: true, ElementType: types.StringType},
			"rules": schema.ListNestedAttribute{Optional: true, NestedObject: schema.NestedAttributeObject{
				Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true},
					"port": schema.Int64Attribute{Required: true},
				},
			}},
			"secret": schema.StringAttribute{Optional: true, Sensitive: true},
		},
	}
}

func write(m docModel) error {
	d := onDisk{Content: m.Content}
	for _, r := range m.Rules {
		d.Rules = append(d.Rules, ruleOnDisk{Name: r.Name.ValueString(), Port: r.Port.ValueInt64()})
	}
	if !m.Secret.IsNull() {
		s := m.Secret.ValueString()
		d.Secret = &s
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(m.Path.ValueString(), append(b, '\n'), 0o644)
}

// writePlanned writes the planned document to disk and records it as the state;
// Create and Update do the same.
func writePlanned(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var m docModel
	if diags.Append(plan.Get(ctx, &m)...); diags.HasError() {
		return
	}
	if err := write(m); err != nil {
		diags.AddError("write document", err.Error())
		return
	}
	m.ID = m.Path
	diags.Append(state.Set(ctx, m)...)
}

func (document) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	writePlanned(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (document) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m docModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	b, err := os.ReadFile(m.Path.ValueString())
	if errors.Is(err, fs.ErrNotExist) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("read document", err.Error())
		return
	}
	var d onDisk
	if err := json.Unmarshal(b, &d); err != nil {
		resp.Diagnostics.AddError("parse document", err.Error())
		return
	}
	m.Content = d.Content
	m.Rules = nil
	for _, r := range d.Rules {
		m.Rules = append(m.Rules, ruleModel{Name: types.StringValue(r.Name), Port: types.Int64Value(r.Port)})
	}
	m.Secret = types.StringPointerValue(d.Secret)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (document) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	writePlanned(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (document) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m docModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	if err := os.Remove(m.Path.ValueString()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		resp.Diagnostics.AddError("delete document", err.Error())
	}
}
