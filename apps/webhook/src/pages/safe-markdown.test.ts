import { describe, expect, it } from "vitest";
import { renderSafeMarkdown } from "./safe-markdown";

describe("renderSafeMarkdown", () => {
  it("renders the small subset", () => {
    const out = renderSafeMarkdown(
      "# Done\n\n**bold** and *em*, `a<b`\n\n- one\n- two\n\n```\n<x>\n```\n[docs](https://example.com/a?b=1&c=2)",
    );
    expect(out).toContain("<strong>Done</strong>");
    expect(out).toContain("<strong>bold</strong> and <em>em</em>, <code>a&lt;b</code>");
    expect(out).toContain("<ul><li>one</li><li>two</li></ul>");
    expect(out).toContain("<pre><code>&lt;x&gt;</code></pre>");
    expect(out).toContain('<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">docs</a>');
  });

  it("never lets agent HTML, attributes or script URLs through", () => {
    const hostile = [
      "<script>alert(1)</script>",
      '<img src=x onerror="alert(1)">',
      "[x](javascript:alert(1))",
      "[x](data:text/html,<script>alert(1)</script>)",
      '[x](https://a.example/"onmouseover="alert(1))',
      "**<b onclick=alert(1)>x</b>**",
      "`</code><script>x</script>`",
    ].join("\n\n");
    const out = renderSafeMarkdown(hostile);
    expect(out).not.toMatch(/<script|<img|<b |href="(javascript|data):/i);
    expect(out).not.toMatch(/"onmouseover=/);
    expect(out).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    // Every tag in the output is one the subset makes.
    const tags = new Set([...out.matchAll(/<\/?([a-z0-9]+)/g)].map((m) => m[1]));
    for (const tag of tags) expect(["p", "br", "strong", "em", "code", "pre", "ul", "li", "a"]).toContain(tag);
  });
});
