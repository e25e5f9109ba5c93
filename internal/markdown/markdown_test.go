package markdown

import (
	"regexp"
	"strings"
	"testing"
)

// unsafeURL finds a link or image whose URL has a script scheme: the
// scheme's name then a colon, written or as an entity. "javascript0",
// with no colon, is a relative link to a page of that name (the fuzzer
// found it).
var unsafeURL = regexp.MustCompile(`(?:href|src)="\s*(?:(?:javascript|vbscript)\s*(?::|&#|&colon;)|data:text)[^"]*"`)

// TestRenderDropsUnsafe: nothing an author writes can run script on the
// page: raw HTML is dropped and dangerous links lose their URL.
func TestRenderDropsUnsafe(t *testing.T) {
	for _, src := range []string{
		"<script>alert(1)</script>",
		"Hello <script>alert(1)</script> there",
		"<img src=x onerror=alert(1)>",
		"<a href=\"javascript:alert(1)\">x</a>",
		"[click](javascript:alert(1))",
		"[click](JAVASCRIPT:alert(1))",
		"[click](vbscript:msgbox(1))",
		"![x](javascript:alert(1))",
		"<javascript:alert(1)>",
		"<iframe src=\"https://evil.example\"></iframe>",
		"<div onclick=\"alert(1)\">x</div>",
		"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"```html\n<script>alert(1)</script>\n```",
	} {
		out, err := Render(src)
		if err != nil {
			t.Fatal(err)
		}
		low := strings.ToLower(string(out))
		for _, bad := range []string{"<script", "onerror=", "onclick=", "<iframe", "<img src=\"x\"", "<div"} {
			if strings.Contains(low, bad) {
				t.Errorf("Render(%q) = %q: holds %q", src, out, bad)
			}
		}
		// A dangerous URL may be shown as text, never as a link or image.
		if m := unsafeURL.FindString(low); m != "" {
			t.Errorf("Render(%q) = %q: links to %q", src, out, m)
		}
	}
}

func TestRenderMarkdown(t *testing.T) {
	out, err := Render("# 睡眠\n\n**Sleep** well. See [help](https://example.org/a?b=1&c=2).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1>睡眠</h1>", "<strong>Sleep</strong>", `<a href="https://example.org/a?b=1&amp;c=2">help</a>`, "<table>"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("Render lacks %q: %s", want, out)
		}
	}
}

// FuzzRender: whatever an author writes, the page gets no script element,
// no event handler attribute and no link or image to a dangerous URL.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"<script>alert(1)</script>", "[x](javascript:alert(1))", "[x](jav&#x61;script:alert(1))",
		"[x](&#106;avascript:alert(1))", "![x](java\tscript:alert(1))", "<a href=javascript:1>x</a>",
		"[x]: javascript:alert(1)\n\n[y][x]", "[X]:jAvAsCript0\n[X]", "[x](javascript&#58;alert(1))", "<svg onload=alert(1)>", "`<script>`", "# t\n\n| a |\n|---|\n| <b onmouseover=x> |",
	} {
		f.Add(s)
	}
	onAttr := regexp.MustCompile(`<[a-z][^>]*\son[a-z]+=`)
	f.Fuzz(func(t *testing.T, src string) {
		out, err := Render(src)
		if err != nil {
			return
		}
		low := strings.ToLower(string(out))
		if strings.Contains(low, "<script") || unsafeURL.MatchString(low) || onAttr.MatchString(low) {
			t.Errorf("Render(%q) = %q", src, out)
		}
	})
}
