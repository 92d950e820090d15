"""Rich text kept safe (DOC-1, PUB-1): a few tags for structure, nothing that runs; its plain text for search."""

from portal.richtext import body_html, is_rich, plain_text


def test_plain_text_becomes_escaped_paragraphs():
    assert body_html("第一段 a < b\n\n第二段") == "<p>第一段 a &lt; b</p><p>第二段</p>"


def test_headings_emphasis_lists_and_tables_are_kept():
    html = body_html("<h3>一、目标</h3><p>请<strong>按时</strong>报送<em>材料</em>。</p><ol><li>甲</li></ol>"
                     "<table><tr><th>单位</th><td>黄河县</td></tr></table>")
    for kept in ("<h3>一、目标</h3>", "<strong>按时</strong>", "<em>材料</em>", "<ol><li>甲</li></ol>", "<th>单位</th>"):
        assert kept in html


def test_scripts_handlers_styles_links_and_images_are_removed():
    html = body_html('<p onclick="alert(1)" style="color:red">正文</p><script>alert(2)</script>'
                     '<a href="javascript:alert(3)">链接</a><img src="http://remote.example/x.png">'
                     '<style>p{}</style><iframe src="/"></iframe>')
    assert html.startswith("<p>正文</p>")
    for gone in ("onclick", "style", "alert", "javascript", "<a", "<img", "remote.example", "<iframe"):
        assert gone not in html


def test_plain_text_is_what_a_reader_reads():
    assert plain_text("<h3>一、目标</h3><p>请<strong>按时</strong>报送 &amp; <script>alert(1)</script>材料</p>"
                      "<ul><li>甲</li><li>乙</li></ul>") == "一、目标\n请按时报送 & 材料\n甲\n乙"
    assert plain_text("第一段 a < b\n\n第二段") == "第一段 a < b\n第二段"
    assert plain_text("") == ""


def test_a_plain_text_naming_a_tag_that_merely_begins_like_an_allowed_one_stays_plain():
    text = "第一段写到了 <button> 和 <img> 标签。\n\n第二段。"
    assert body_html(text) == "<p>第一段写到了 &lt;button&gt; 和 &lt;img&gt; 标签。</p><p>第二段。</p>"
    assert is_rich("<b>重点</b>") and is_rich("<P class=x>段</P>") and is_rich("<br/>")
