package tfdoc

import "github.com/zclconf/go-cty/cty"

func asString(v cty.Value) (string, bool) {
	if v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}
