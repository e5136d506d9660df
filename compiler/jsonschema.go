package compiler

import (
	"encoding/json"
	"fmt"
)

// JSONSchemaID is the $id of the stack file JSON Schema.
const JSONSchemaID = "https://platdev.github.io/plat/schemas/stack.json"

// JSONSchema returns the JSON Schema (draft 2020-12) of the stack file, derived
// from the CUE schema and the catalog's templates: unknown fields are refused
// everywhere, and each template's parameters are described under with:.
func (c *Compiler) JSONSchema() ([]byte, error) {
	names, err := c.TemplateNames()
	if err != nil {
		return nil, err
	}
	root := shapeJSON(c.StackShape())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = JSONSchemaID
	root["title"] = "plat stack file"

	spec := root["properties"].(map[string]any)["spec"].(map[string]any)["properties"].(map[string]any)
	if regions := c.platform.Regions; len(regions) > 0 {
		enum := make([]any, len(regions))
		for i, r := range regions {
			enum[i] = r
		}
		spec["region"].(map[string]any)["enum"] = enum
	}
	// Narrow resources[].template to the catalog and with: to each template's parameters.
	res := spec["resources"].(map[string]any)["items"].(map[string]any)
	props := res["properties"].(map[string]any)
	tmplProp := props["template"].(map[string]any)
	enum := make([]any, len(names))
	var branches []any
	for i, n := range names {
		enum[i] = n
		t, err := c.Template(n)
		if err != nil {
			return nil, err
		}
		with := shapeJSON(t.Parameters)
		with["description"] = fmt.Sprintf("Parameters of template %s: %s.", n, t.Description)
		branches = append(branches, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"template": map[string]any{"const": n}}, "required": []any{"template"}},
			"then": map[string]any{"properties": map[string]any{"with": with}},
		})
	}
	tmplProp["enum"] = enum
	delete(tmplProp, "pattern")
	if len(branches) > 0 {
		res["allOf"] = branches
	}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func shapeJSON(s *Shape) map[string]any {
	m := map[string]any{}
	if s.Doc != "" {
		m["description"] = s.Doc
	}
	if s.Type != "" {
		if s.Nullable {
			m["type"] = []any{s.Type, "null"}
		} else {
			m["type"] = s.Type
		}
	}
	switch s.Type {
	case "object":
		props := map[string]any{}
		var req []any
		for _, f := range s.Fields {
			props[f.Name] = shapeJSON(f.Shape)
			if f.Required {
				req = append(req, f.Name)
			}
		}
		if len(props) > 0 || !s.Open {
			m["properties"] = props
		}
		if len(req) > 0 {
			m["required"] = req
		}
		if !s.Open {
			m["additionalProperties"] = false
		}
	case "array":
		if s.Elem != nil {
			m["items"] = shapeJSON(s.Elem)
		}
	}
	if len(s.Enum) > 0 {
		e := append([]any{}, s.Enum...)
		if s.Nullable {
			e = append(e, nil)
		}
		m["enum"] = e
	}
	if s.Min != nil {
		if s.ExclusiveMin {
			m["exclusiveMinimum"] = *s.Min
		} else {
			m["minimum"] = *s.Min
		}
	}
	if s.Max != nil {
		if s.ExclusiveMax {
			m["exclusiveMaximum"] = *s.Max
		} else {
			m["maximum"] = *s.Max
		}
	}
	if s.Pattern != "" {
		m["pattern"] = s.Pattern
	}
	if s.HasDefault {
		m["default"] = s.Default
	}
	return m
}
