// Package hclbound refuses HCL and JSON sources nested too deeply for the
// recursive parsers that read them, before those parsers see the bytes.
//
// hclsyntax and hcl's JSON parser are recursive descent parsers, and so are the
// evaluators of what they build. A few hundred kilobytes of "[[[[..." nest deep
// enough to overflow the goroutine stack, which is a fatal error, not a panic:
// the whole process dies (issue 17, finding 1). The checks here are
// flat loops over tokens and bytes, so they cannot overflow themselves.
//
// The count is conservative: it never under-counts the recursion a parser or
// evaluator will go through, and may over-count some unusual but valid sources.
package hclbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxDepth is the nesting limit: far beyond any real module, and small enough
// that parsing and evaluating a source at the limit needs little stack.
const MaxDepth = 256

// ErrTooDeep means a source nests deeper than the limit.
var ErrTooDeep = errors.New("nesting too deep")

// kind is what opened a frame; it decides which tokens end an expression in it.
type kind int

const (
	kindBody     kind = iota // the file itself, and { } (block bodies, objects): newlines end expressions
	kindList                 // ( ) and [ ]: newlines are ignored inside
	kindTemplate             // "..." and heredocs: literal text around sequences
	kindSequence             // ${ } and %{ }
)

type frame struct {
	close hclsyntax.TokenType
	kind  kind
	// ops counts what else nests within the frame's current expression: the
	// operators (unary ones recurse, chains of binary ones build deep trees), the
	// ? of conditionals, index brackets, and in templates the open if and for
	// directives.
	ops int
}

// counter tracks the nesting of one token stream.
type counter struct {
	stack []frame
	ops   int // sum of stack[i].ops
	base  int
	max   int
	peak  int // the deepest seen, for tests
}

func (c *counter) depth() int { return c.base + len(c.stack) - 1 + c.ops }

func (c *counter) push(close hclsyntax.TokenType, k kind) {
	c.stack = append(c.stack, frame{close: close, kind: k})
}

func (c *counter) top() *frame { return &c.stack[len(c.stack)-1] }

func (c *counter) addOp(f *frame, n int) {
	if f.ops+n < 0 {
		n = -f.ops
	}
	f.ops += n
	c.ops += n
}

func (c *counter) resetOps() {
	f := c.top()
	c.ops -= f.ops
	f.ops = 0
}

// tokens runs the counter over toks; base is the depth the stream starts at (a
// template inside a JSON string starts at the string's depth).
func (c *counter) tokens(toks hclsyntax.Tokens, first kind, base int) (hcl.Pos, bool) {
	c.stack = append(c.stack[:0], frame{close: hclsyntax.TokenNil, kind: first})
	c.ops, c.base = 0, base
	directive := false
	prev := hclsyntax.TokenNil
	for _, tok := range toks {
		before := prev
		if tok.Type != hclsyntax.TokenComment {
			prev = tok.Type
		}
		switch tok.Type {
		case hclsyntax.TokenOBrace:
			c.push(hclsyntax.TokenCBrace, kindBody)
		case hclsyntax.TokenOBrack:
			switch before {
			case hclsyntax.TokenIdent, hclsyntax.TokenNumberLit, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
				hclsyntax.TokenCBrace, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenStar:
				c.addOp(c.top(), 1) // an index: indexed collections nest
			}
			c.push(hclsyntax.TokenCBrack, kindList)
		case hclsyntax.TokenOParen:
			c.push(hclsyntax.TokenCParen, kindList)
		case hclsyntax.TokenOQuote:
			c.push(hclsyntax.TokenCQuote, kindTemplate)
		case hclsyntax.TokenOHeredoc:
			c.push(hclsyntax.TokenCHeredoc, kindTemplate)
		case hclsyntax.TokenTemplateInterp:
			c.push(hclsyntax.TokenTemplateSeqEnd, kindSequence)
		case hclsyntax.TokenTemplateControl:
			c.push(hclsyntax.TokenTemplateSeqEnd, kindSequence)
			directive = true
			continue
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			// A closer that does not match is left for the parser to report;
			// keeping the frame open only over-counts.
			if len(c.stack) > 1 && c.top().close == tok.Type {
				c.ops -= c.top().ops
				c.stack = c.stack[:len(c.stack)-1]
			}
		case hclsyntax.TokenComma:
			if k := c.top().kind; k != kindTemplate {
				c.resetOps()
			}
		case hclsyntax.TokenNewline, hclsyntax.TokenComment:
			// A line comment holds the newline that ends it.
			if c.top().kind == kindBody && bytes.HasSuffix(tok.Bytes, []byte("\n")) {
				c.resetOps()
			}
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash,
			hclsyntax.TokenPercent, hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
			hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThan,
			hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenBang,
			hclsyntax.TokenQuestion:
			c.addOp(c.top(), 1)
		case hclsyntax.TokenIdent:
			// if and for directives nest the template around them until their
			// endif or endfor.
			if directive && len(c.stack) > 1 {
				outer := &c.stack[len(c.stack)-2]
				switch string(tok.Bytes) {
				case "if", "for":
					c.addOp(outer, 1)
				case "endif", "endfor":
					c.addOp(outer, -1)
				}
			}
		}
		directive = false
		c.peak = max(c.peak, c.depth())
		if c.depth() > c.max {
			return tok.Range.Start, false
		}
	}
	return hcl.Pos{}, true
}

// DepthError is the error CheckHCL and CheckJSON return; it wraps ErrTooDeep.
type DepthError struct {
	Filename string
	// Pos is where the limit was passed.
	Pos   hcl.Pos
	Limit int
}

// Detail says what is wrong without the position.
func (e *DepthError) Detail() string {
	return fmt.Sprintf("more than %d levels of brackets, strings, templates and operators; plat refuses such files before parsing them", e.Limit)
}

func (e *DepthError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %v: %s", e.Filename, e.Pos.Line, e.Pos.Column, ErrTooDeep, e.Detail())
}

// Unwrap makes errors.Is(err, ErrTooDeep) hold.
func (e *DepthError) Unwrap() error { return ErrTooDeep }

func tooDeep(filename string, pos hcl.Pos, limit int) error {
	return &DepthError{Filename: filename, Pos: pos, Limit: limit}
}

// CheckHCL returns a *DepthError, naming filename:line:col, when
// src (HCL native syntax) nests deeper than limit (MaxDepth when limit <= 0). It
// counts every bracket, quoted string, heredoc, ${ } and %{ } sequence, open if
// and for directive, and every operator of the expression around them, using the
// tokens hclsyntax's own (non-recursive) scanner produces, so brackets inside
// strings and comments do not count and a bracket the parser will see always
// does. Syntax errors are left to the parser.
func CheckHCL(filename string, src []byte, limit int) error {
	if limit <= 0 {
		limit = MaxDepth
	}
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	c := counter{max: limit}
	if pos, ok := c.tokens(toks, kindBody, 0); !ok {
		return tooDeep(filename, pos, limit)
	}
	return nil
}

// CheckJSON is CheckHCL for HCL's JSON syntax (*.tf.json): it counts arrays and
// objects, and, since hcl evaluates JSON strings as templates and tofu parses
// some (a variable's type, depends_on) as expressions, the nesting of every
// string read either way on top of the string's own depth.
func CheckJSON(filename string, src []byte, limit int) error {
	if limit <= 0 {
		limit = MaxDepth
	}
	c := counter{max: limit}
	depth, line, col := 0, 1, 1
	for i := 0; i < len(src); i++ {
		b := src[i]
		switch b {
		case '\n':
			line, col = line+1, 1
			continue
		case '[', '{':
			depth++
			if depth > limit {
				return tooDeep(filename, hcl.Pos{Line: line, Column: col}, limit)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case '"':
			j := i + 1
			for esc := false; j < len(src) && src[j] != '\n'; j++ {
				if esc {
					esc = false
				} else if src[j] == '\\' {
					esc = true
				} else if src[j] == '"' {
					j++
					break
				}
			}
			raw := src[i:j]
			var s string
			if len(raw) > 2 && json.Unmarshal(raw, &s) == nil {
				// hcl evaluates a string as a template, and tofu parses some
				// strings (a variable's type, depends_on, provider) as
				// expressions: both must stay within the limit.
				toks, _ := hclsyntax.LexTemplate([]byte(s), filename, hcl.InitialPos)
				_, ok := c.tokens(toks, kindTemplate, depth+1)
				if ok {
					toks, _ = hclsyntax.LexExpression([]byte(s), filename, hcl.InitialPos)
					_, ok = c.tokens(toks, kindList, depth+1)
				}
				if !ok {
					return tooDeep(filename, hcl.Pos{Line: line, Column: col}, limit)
				}
			}
			col += utf8.RuneCount(raw)
			i = j - 1
			continue
		}
		if b < 0x80 || b >= 0xc0 {
			col++ // count characters, not UTF-8 continuation bytes
		}
	}
	return nil
}
