using FineTune.MLNet.ChatTemplates;
using Xunit;

namespace FineTune.MLNet.Tests.ChatTemplates;

/// <summary>
/// Chat templates are untrusted code from downloaded checkpoints: each hostile template below is refused with a
/// <see cref="ChatTemplateException"/> naming the <see cref="ChatTemplateLimits"/> field it went past, before it can
/// loop, recurse or allocate without end; and nothing of the host (.NET objects, files) is reachable.
/// </summary>
public class ChatTemplateLimitsTests
{
    private static readonly ChatMessage[] Messages = [new("user", "Hi"), new("assistant", "Hello!")];

    private static string Render(string template, ChatTemplateLimits? limits = null) =>
        ChatTemplate.Parse(template, limits).Render(Messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>");

    private static void AssertRefused(string template, string limit, ChatTemplateLimits? limits = null)
    {
        var e = Assert.Throws<ChatTemplateException>(() => Render(template, limits));
        Assert.True(e.Message.Contains(limit, StringComparison.Ordinal), $"expected '{limit}' in: {e.Message}");
    }

    [Theory]
    [InlineData("{% for i in range(10**9) %}x{% endfor %}", "MaxLoopIterations")]
    [InlineData("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "MaxLoopIterations")]
    [InlineData("{% for m in messages * 100000 %}{% endfor %}", "MaxLoopIterations")]
    [InlineData("{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", "MaxLoopIterations")]
    [InlineData("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "MaxDepth")]
    [InlineData("{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(0) }}", "MaxDepth")]
    [InlineData("{{ 'a' * 10**9 }}", "MaxOutputChars")]
    [InlineData("{{ 10**9 * 'a' }}", "MaxOutputChars")]
    [InlineData("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", "MaxOutputChars")]
    [InlineData("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "MaxOutputChars")]
    [InlineData("{{ ('x' * 1000).replace('x', 'y' * 5000) }}", "MaxOutputChars")]
    [InlineData("{{ (['y' * 900000] * 3) | join }}", "MaxOutputChars")]
    [InlineData("{{ 'a\nb' | indent(10**9) }}", "MaxOutputChars")]
    // A list that holds itself twice per level: printing it would take 2^40 leaves, nesting 40 levels is fine, 100 is not.
    [InlineData("{% set ns = namespace(x=[]) %}{% for i in range(100) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x }}", "MaxDepth")]
    [InlineData("{% set ns = namespace(x=[]) %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x }}", "MaxOutputChars")]
    [InlineData("{% set ns = namespace(x=[]) %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x | tojson }}", "MaxOutputChars")]
    public void Hostile_templates_are_refused_naming_the_limit(string template, string limit) =>
        AssertRefused(template, limit, new ChatTemplateLimits { MaxDuration = TimeSpan.FromMinutes(1) }); // the other limits fire first, on any machine

    [Fact]
    public void A_long_busy_render_stops_at_MaxDuration()
    {
        var limits = new ChatTemplateLimits { MaxDuration = TimeSpan.FromMilliseconds(1), MaxLoopIterations = 10_000_000 };
        AssertRefused("{% for i in range(5000000) %}{% if i == -1 %}x{% endif %}{% endfor %}", "MaxDuration", limits);
    }

    [Theory]
    [InlineData("{{ 99999999999999999999 }}", "does not fit in 64 bits")]
    [InlineData("{{ messages.99999999999999999999 }}", "does not fit in 64 bits")]
    [InlineData("{{ 9223372036854775807 + 1 }}", "integer overflow")]
    [InlineData("{{ -9223372036854775807 - 2 }}", "integer overflow")]
    [InlineData("{{ 2 ** 64 }}", "integer overflow")]
    [InlineData("{{ 3037000500 * 3037000500 }}", "integer overflow")]
    [InlineData("{{ (-9223372036854775807 - 1) // -1 }}", "integer overflow")]
    public void Integer_overflow_is_an_error_not_a_wrapped_number(string template, string expected)
    {
        var e = Assert.Throws<ChatTemplateException>(() => Render(template));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Integers_in_range_still_compute_exactly()
    {
        Assert.Equal("1000000000000000000 -9223372036854775808 4052555153018976267 0", Render("{{ 10**18 }} {{ -9223372036854775807 - 1 }} {{ 3**39 }} {{ 7 % -1 }}"));
    }

    [Theory]
    [InlineData(10_000, '(', ')')]
    [InlineData(10_000, '[', ']')]
    public void Deeply_nested_source_is_a_parse_error_not_a_stack_overflow(int depth, char open, char close)
    {
        var template = "{{ " + new string(open, depth) + "1" + new string(close, depth) + " }}";
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(template));
        Assert.Contains("MaxDepth", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deeply_nested_blocks_and_unary_chains_are_parse_errors()
    {
        Assert.Contains("MaxDepth", Assert.Throws<ChatTemplateException>(() =>
            ChatTemplate.Parse(string.Concat(Enumerable.Repeat("{% if true %}", 5000)) + string.Concat(Enumerable.Repeat("{% endif %}", 5000)))).Message);
        Assert.Contains("MaxDepth", Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("{{ " + new string('-', 100_000) + "1 }}")).Message);
    }

    [Fact]
    public void Templates_within_the_limits_render_unchanged()
    {
        var limits = new ChatTemplateLimits { MaxLoopIterations = 10, MaxOutputChars = 20, MaxDepth = 3 };
        Assert.Equal("0123456789", Render("{% for i in range(10) %}{{ i }}{% endfor %}", limits));
        AssertRefused("{% for i in range(11) %}{% endfor %}", "MaxLoopIterations = 10", limits);
        AssertRefused("{{ 'x' * 21 }}", "MaxOutputChars = 20", limits);
        Assert.Equal("[[[]]]", Render("{{ [[[]]] }}", limits));
        AssertRefused("{{ [[[[]]]] }}", "MaxDepth = 3", limits);
    }

    [Theory]
    [InlineData("{{ messages.__class__ }}|{{ messages[0].__dict__ }}|{{ loop }}|{{ range.__globals__ }}", "|||")]
    [InlineData("{{ messages.GetType }}{{ raise_exception.Method }}{{ ''.GetType }}", "")]
    public void Nothing_of_the_host_is_reachable(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{% include '/etc/passwd' %}")]
    [InlineData("{% import 'os' as os %}")]
    [InlineData("{% extends 'base.html' %}")]
    [InlineData("{% from 'x' import y %}")]
    public void File_access_tags_are_refused_at_parse(string template) =>
        Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(template));

    [Fact]
    public void Attribute_calls_on_host_objects_fail_as_template_errors()
    {
        Assert.Throws<ChatTemplateException>(() => Render("{{ ''.__class__.__mro__ }}"));
        Assert.Throws<ChatTemplateException>(() => Render("{{ messages.__class__.__init__() }}"));
        Assert.Throws<ChatTemplateException>(() => Render("{{ raise_exception.__code__.co_consts }}"));
    }

    [Theory]
    [InlineData(nameof(ChatTemplateLimits.MaxLoopIterations))]
    [InlineData(nameof(ChatTemplateLimits.MaxDepth))]
    [InlineData(nameof(ChatTemplateLimits.MaxOutputChars))]
    [InlineData(nameof(ChatTemplateLimits.MaxDuration))]
    public void Invalid_limits_are_refused_naming_the_field(string field)
    {
        var limits = field switch
        {
            nameof(ChatTemplateLimits.MaxLoopIterations) => new ChatTemplateLimits { MaxLoopIterations = 0 },
            nameof(ChatTemplateLimits.MaxDepth) => new ChatTemplateLimits { MaxDepth = 0 },
            nameof(ChatTemplateLimits.MaxOutputChars) => new ChatTemplateLimits { MaxOutputChars = -1 },
            _ => new ChatTemplateLimits { MaxDuration = TimeSpan.Zero },
        };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ChatTemplate.Parse("x", limits));
        Assert.Equal(field, e.ParamName);
    }

    [Fact]
    public void Defaults_are_the_documented_values()
    {
        var d = ChatTemplateLimits.Default;
        Assert.Equal((100_000, 64, 1_000_000, TimeSpan.FromSeconds(1)), (d.MaxLoopIterations, d.MaxDepth, d.MaxOutputChars, d.MaxDuration));
    }
}
