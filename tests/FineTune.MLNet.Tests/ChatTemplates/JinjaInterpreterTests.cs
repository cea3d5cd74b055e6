using FineTune.MLNet.ChatTemplates;
using Xunit;

namespace FineTune.MLNet.Tests.ChatTemplates;

/// <summary>
/// The Jinja subset feature by feature, with expected strings worked out from Jinja's rules
/// (trim_blocks + lstrip_blocks, Python value semantics). Messages are [user "Hi", assistant "Hello!"].
/// </summary>
public class JinjaInterpreterTests
{
    private static readonly ChatMessage[] Messages = [new("user", "Hi"), new("assistant", "Hello!")];

    private static string Render(string template, IReadOnlyDictionary<string, object?>? extra = null) =>
        ChatTemplate.Parse(template).Render(Messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>", extra);

    [Theory]
    // trim_blocks removes the newline after a block tag, not after a variable tag.
    [InlineData("{% if true %}\nA\n{% endif %}\nB", "A\nB")]
    [InlineData("{{ 'x' }}\nB", "x\nB")]
    // lstrip_blocks removes indentation before a block tag at line start, but not text before it on the same line.
    [InlineData("  {% if true %}\n  X\n  {% endif %}\n  {{ 'y' }}  {% if true %}z{% endif %}\nend\n", "  X\n  y  zend")]
    // '-' strips all whitespace, newlines included, on its side; '+' keeps the indentation / newline.
    [InlineData("a  \n  {%- if true -%}  \n  b  {{- ' c ' -}}  \n d{% endif %}", "ab c d")]
    [InlineData("  {%+ if true %}x{% endif +%}\ny", "  x\ny")]
    // Comments vanish and also obey trim/lstrip.
    [InlineData("a\n  {# note #}\nb{#- x -#}  c", "a\nbc")]
    // One trailing newline of the source is dropped; \r\n is normalised.
    [InlineData("x\r\ny\n", "x\ny")]
    public void Whitespace(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{% for m in messages %}{{ loop.index0 }}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }};{% endfor %}", "01TrueFalse22;12FalseTrue21;")]
    [InlineData("{% for m in messages if m.role == 'assistant' %}{{ loop.index }}/{{ loop.length }}:{{ m.content }}{% endfor %}", "1/1:Hello!")]
    [InlineData("{% for x in [] %}x{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }},{% endfor %}", "a=1,b=2,")]
    [InlineData("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}", "02")]
    [InlineData("{% for c in 'ab' %}{{ loop.cycle('x', 'y') }}{{ c }}{% endfor %}", "xayb")]
    // set inside a loop does not survive the iteration (the reason templates use namespace()).
    [InlineData("{% set x = 0 %}{% for i in range(3) %}{{ x }}{% set x = i %}{% endfor %}{{ x }}", "0000")]
    [InlineData("{% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", "6")]
    [InlineData("{% if false %}a{% elif 0 %}b{% elif 'x' %}c{% else %}d{% endif %}", "c")]
    [InlineData("{% set a, b = 1, 2 %}{{ b }}{{ a }}", "21")]
    [InlineData("{% set block %}<{{ messages[0].content }}>{% endset %}{{ block | upper }}", "<HI>")]
    [InlineData("{% macro tag(name, close=false) %}<{{ '/' if close }}{{ name }}>{% endmacro %}{{ tag('a') }}{{ tag('a', close=true) }}", "<a></a>")]
    [InlineData("{% generation %}{{ messages[1].content }}{% endgeneration %}", "Hello!")]
    public void Statements(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ messages[0]['role'] }}|{{ messages[0].role }}|{{ messages[-1].content }}|{{ messages[1:] | length }}", "user|user|Hello!|1")]
    [InlineData("{{ 'abcdef'[1:3] }}{{ 'abc'[::-1] }}{{ [1, 2, 3][:-1] }}", "bccba[1, 2]")]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 1 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 3 * 'ab' }}", "3 -4 2 0.5 2.0 1024 ababab")]
    [InlineData("{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 100.0 }} {{ 10 / 3 }}", "0.30000000000000004 1e+20 1.5e-07 100.0 3.3333333333333335")]
    [InlineData("{{ none }}|{{ true }}|{{ [1, 'a', none, false, 2.0] }}|{{ {'k': \"it's\"} }}", "None|True|[1, 'a', None, False, 2.0]|{'k': \"it's\"}")]
    [InlineData("{{ 'a' ~ 1 ~ none ~ undefined_var }}", "a1None")]
    [InlineData("{{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ 1 < 2 < 3 }} {{ 'i' in 'Hi' }} {{ 2 not in [1, 2] }} {{ 'role' in messages[0] }}", "True True True True False True")]
    [InlineData("{{ 'yes' if messages else 'no' }}|{{ 'x' if false }}|{{ 0 or 'b' }}|{{ 1 and 'c' }}|{{ not none }}", "yes||b|c|True")]
    [InlineData("{{ {'a': {'b': 1}} }}", "{'a': {'b': 1}}")]
    [InlineData("{{ ' x '.strip() }}|{{ 'a,b'.split(',') }}|{{ 'a b  c'.split() }}|{{ 'Hi'.startswith(('x', 'H')) }}|{{ 'Hi'.endswith('i') }}", "x|['a', 'b']|['a', 'b', 'c']|True|True")]
    [InlineData("{{ 'aBc'.upper() }}{{ 'aBc'.lower() }}{{ 'x-y'.replace('-', '+') }}{{ messages[0].get('role') }}{{ messages[0].get('nope', 'd') }}", "ABCabcx+yuserd")]
    [InlineData("{{ '{} and {name}'.format(1, name='n') }}", "1 and n")]
    public void Expressions(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ '  x  ' | trim }}|{{ 'ab' | length }}|{{ 'hello world' | capitalize }}|{{ 'hello world' | title }}", "x|2|Hello world|Hello World")]
    [InlineData("{{ missing | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ none | default('d') }}", "d||d|None")]
    [InlineData("{{ [3, 1, 2] | first }}{{ [3, 1, 2] | last }}{{ [3, 1, 2] | sort | join(',') }}{{ [1, 2] | join }}", "321,2,312")]
    [InlineData("{{ messages | map(attribute='role') | join(' ') }}|{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ messages | rejectattr('role', 'eq', 'user') | map(attribute='content') | first }}", "user assistant|1|Hello!")]
    [InlineData("{{ [1, 2, 3, 4] | select('odd') | list }}|{{ ['a', 'B'] | map('upper') | list }}|{{ [1, 1, 2] | unique | list }}|{{ 'x' | string }}{{ 3 | string }}", "[1, 3]|['A', 'B']|[1, 2]|x3")]
    [InlineData("{{ {'a': 'é\"\\n', 'b': [1, 2.5, none, true]} | tojson }}", "{\"a\": \"é\\\"\\n\", \"b\": [1, 2.5, null, true]}")]
    [InlineData("{{ {'b': 1, 'a': [1]} | tojson(indent=2, sort_keys=true) }}", "{\n  \"a\": [\n    1\n  ],\n  \"b\": 1\n}")]
    [InlineData("{{ {'a': 1, 'b': 2} | tojson(separators=(',', ':')) }}", "{\"a\":1,\"b\":2}")]
    [InlineData("{{ 'line1\nline2' | indent(2) }}|{{ -3 | abs }}|{{ '42' | int + 1 }}|{{ 2.567 | round(1) }}", "line1\n  line2|3|43|2.6")]
    public void Filters(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ x is defined }} {{ x is undefined }} {{ messages is defined }} {{ messages[0].tool_calls is defined }}", "False True True False")]
    [InlineData("{{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }}", "True True True True True True")]
    [InlineData("{{ messages[0] is mapping }} {{ messages is iterable }} {{ messages is sequence }} {{ raise_exception is callable }}", "True True True True")]
    [InlineData("{{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 'a' is not none }} {{ 'A' is upper }}", "True True True False True True")]
    public void Tests(string template, string expected) => Assert.Equal(expected, Render(template));

    [Fact]
    public void UndefinedVariable_RendersEmpty_AndIsFalsy()
    {
        Assert.Equal("[]", Render("[{{ nothing }}]{% if nothing %}x{% endif %}{% for i in nothing %}y{% endfor %}"));
    }

    [Theory]
    [InlineData("{{ nothing.attr }}", "'nothing' is undefined")]
    [InlineData("{{ nothing['k'] }}", "'nothing' is undefined")]
    [InlineData("{{ 'a' + nothing }}", "'nothing' is undefined")]
    [InlineData("{{ messages[0].missing.deeper }}", "'dict object' has no attribute 'missing'")]
    [InlineData("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str")]
    [InlineData("{{ messages.append(1) }}", "unsafe")]
    [InlineData("{{ nothing | tojson }}", "not JSON serializable")]
    [InlineData("{% set x.y = 1 %}", "only namespace() objects can be assigned to")]
    public void RenderErrors_FailLikeJinja_WithPosition(string template, string expectedFragment)
    {
        var ex = Assert.Throws<ChatTemplateException>(() => Render(template));

        Assert.Contains(expectedFragment, ex.Message);
        Assert.Equal(1, ex.Line);
        Assert.False(ex.IsRaisedByTemplate);
    }

    [Theory]
    [InlineData("line1\n{% if true %}\nx", 3, "expected '{% elif %}' or '{% else %}' or '{% endif %}'")]
    [InlineData("ab\n  {{ 1 + }}", 2, "expected an expression")]
    [InlineData("{% for x in y %}{% endif %}", 1, "'endif'")]
    [InlineData("{% include 'x' %}", 1, "unknown or unsupported tag 'include'")]
    [InlineData("a\nb\n{{ 'unterminated }}", 3, "unterminated string literal")]
    [InlineData("{# never closed", 1, "unterminated comment")]
    public void ParseErrors_NameLineAndColumn(string template, int expectedLine, string expectedFragment)
    {
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(template));

        Assert.Equal(expectedLine, ex.Line);
        Assert.NotNull(ex.Column);
        Assert.Contains(expectedFragment, ex.Message);
        Assert.Contains($"line {expectedLine}, column {ex.Column}", ex.Message);
    }

    [Fact]
    public void ParseError_ReportsExactColumn()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("ab\ncd {{ x | }}"));

        Assert.Equal(2, ex.Line);
        Assert.Equal(11, ex.Column); // the '}}' where a filter name was expected
    }

    [Fact]
    public void RaiseException_CarriesTemplateMessage()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => Render("ok{{ raise_exception('Bad role: ' + messages[1].role) }}"));

        Assert.True(ex.IsRaisedByTemplate);
        Assert.Equal("Bad role: assistant", ex.Message);
    }

    [Fact]
    public void Variables_TokensExtraAndDefaults()
    {
        var extra = new Dictionary<string, object?>
        {
            ["custom"] = new Dictionary<string, object?> { ["n"] = 2, ["items"] = new[] { "a", "b" } },
            ["eos_token"] = "<EOS>",
        };

        string actual = ChatTemplate.Parse(
                "{{ bos_token is defined }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ tools is none }}|{{ custom.n * 2 }}|{{ custom['items'] | join('+') }}")
            .Render(Messages, addGenerationPrompt: false, bosToken: null, eosToken: "</s>", extra);

        Assert.Equal("False|<EOS>|False|True|4|a+b", actual);
    }

    [Fact]
    public void Extra_CannotOverrideMessages()
    {
        var extra = new Dictionary<string, object?> { ["messages"] = Array.Empty<string>() };

        Assert.Throws<ArgumentException>(() => ChatTemplate.Parse("x").Render(Messages, true, null, null, extra));
    }

    [Fact]
    public void StrftimeNow_UsesClock()
    {
        var template = ChatTemplate.Parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M') }}");
        template.Clock = () => new DateTime(2024, 7, 5, 9, 3, 0);

        Assert.Equal("05 Jul 2024|2024-07-05 09:03", template.Render(Messages, true, null, null));
    }
}
