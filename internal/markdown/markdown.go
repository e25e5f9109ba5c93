// Package markdown renders the public site's articles, written by staff in
// Markdown, to HTML that is safe to put on a page: goldmark's safe mode
// (without html.WithUnsafe) drops raw HTML — a <script> or an onerror
// attribute written into the Markdown never reaches the page — and refuses
// links and images to dangerous URLs (javascript:, vbscript:, file:,
// data: other than images). Tests hold it to that.
package markdown

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// md is GitHub-flavoured Markdown (tables, strikethrough, task lists,
// bare links), in goldmark's default safe mode.
var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

// Render turns Markdown into HTML safe to show.
func Render(src string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	// The output holds no raw HTML of the author's: only what goldmark
	// writes itself, with text and attributes escaped.
	return template.HTML(buf.String()), nil
}
