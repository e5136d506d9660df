package crd

// Slimming a CRD's YAML to what validating a create request reads, on text,
// before it is decoded.

import (
	"bytes"
	"regexp"
)

// statusSubresource matches the status subresource as controller-gen writes it.
var statusSubresource = regexp.MustCompile(`(?m)^ *subresources:\s*\n *status: \{\}\s*$`)

// slim drops from a CRD's YAML what validating a create request does not read:
// descriptions, and the status schema of versions whose status is a subresource
// (the API server ignores status on create then). It works on text because YAML
// decoding is the main cost of loading a kind, and a provider's CRDs are mostly
// descriptions and status (atProvider) schemas.
func slim(doc []byte) []byte {
	doc = stripDescriptions(doc)
	schemas := bytes.Count(doc, []byte("openAPIV3Schema:"))
	if schemas == 0 || len(statusSubresource.FindAllIndex(doc, -1)) != schemas {
		return doc
	}
	return stripStatusSchema(doc)
}

// stripStatusSchema drops openAPIV3Schema.properties.status of every version.
func stripStatusSchema(b []byte) []byte {
	out := make([]byte, 0, len(b))
	root := -1 // indentation of the current openAPIV3Schema key
	inProps := false
	skip := -1
	for line := range bytes.Lines(b) {
		body := bytes.TrimLeft(line, " ")
		indent := len(line) - len(body)
		key := bytes.TrimRight(body, " \r\n")
		if skip >= 0 {
			if len(key) == 0 || indent > skip {
				continue
			}
			skip = -1
		}
		switch {
		case len(key) == 0:
		case bytes.Equal(key, []byte("openAPIV3Schema:")):
			root, inProps = indent, false
		case root >= 0 && indent <= root:
			root, inProps = -1, false
		case root >= 0 && indent == root+2:
			inProps = bytes.Equal(key, []byte("properties:"))
		case inProps && indent == root+4 && bytes.Equal(key, []byte("status:")):
			skip = indent
			continue
		}
		out = append(out, line...)
	}
	return out
}

// stripDescriptions drops the description of every schema from a CRD's YAML
// before it is decoded. Descriptions are two thirds of a provider CRD's bytes and
// play no part in validation; YAML decoding is the main cost of loading a kind.
// A line "description: VALUE" (a scalar on the key's line, possibly continued on
// more-indented lines) goes; "description:" with nothing after it is a property
// named description and stays, as do list items ("- description: ...").
func stripDescriptions(b []byte) []byte {
	out := make([]byte, 0, len(b)/2)
	skip := -1 // indentation of the description being dropped
	for line := range bytes.Lines(b) {
		body := bytes.TrimLeft(line, " ")
		indent := len(line) - len(body)
		if skip >= 0 {
			if len(bytes.TrimSpace(line)) == 0 || indent > skip {
				continue
			}
			skip = -1
		}
		if v, ok := bytes.CutPrefix(body, []byte("description:")); ok {
			v = bytes.TrimSpace(v)
			if len(v) > 0 && v[0] != '{' && v[0] != '[' && v[0] != '&' && v[0] != '*' && v[0] != '#' {
				skip = indent
				continue
			}
		}
		out = append(out, line...)
	}
	return out
}
