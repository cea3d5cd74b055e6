using System.Text;

namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>Jinja-aware mutations of a chat template: Jinja fragments (tags, operators, filters, literals) inserted,
/// swapped or deleted at random places, so mutated templates still reach the parser and the evaluator.</summary>
internal static class TemplateMutator
{
    private static readonly string[] Fragments =
    [
        "{%", "%}", "{{", "}}", "{#", "#}", "{%-", "-%}", "{% endif %}", "{% endfor %}", "{% else %}", "{% if x %}",
        "{% for m in messages %}", "{% for i in range(3) %}", "{% set ns = namespace(a=1) %}", "{% set ns.a = ns.a + 1 %}",
        "{{ messages[0]['content'] }}", "{{ messages[-1].role }}", "{{ loop.index }}", "{{ x|tojson }}", "|trim", "|length",
        "|upper", "|join(', ')", "|first", "|last", "|default('d')", "|int", "|string", "|items", ".strip()", ".split(' ')",
        ".startswith('a')", ".replace('a', 'b')", "**", "*", "//", "%", "+", "-", "~", " and ", " or ", " not ", " in ",
        " is defined", " is none", "==", "!=", "<", "(", ")", "[", "]", "[1:]", "[::-1]", ",", ":", "'", "\"", "0", "-1",
        "9223372036854775807", "1e308", "10**18", "1.5", "[1, 2]", "{'a': 1}", "none", "true", "raise_exception('x')",
        "{% macro m(a, b=2) %}{{ a }}{% endmacro %}{{ m(1) }}", "{% break %}", "{% continue %}", "{% generation %}",
        "{% endgeneration %}", "bos_token", "eos_token", "add_generation_prompt", "{% set x = 'a' * 3 %}", "\n", " ",
    ];

    public static byte[] Mutate(byte[] seed, Random random)
    {
        var text = new StringBuilder(Encoding.UTF8.GetString(seed));
        for (int k = random.Next(1, 4); k > 0; k--)
        {
            int at = random.Next(text.Length + 1);
            switch (random.Next(3))
            {
                case 0:
                    text.Insert(at, Fragments[random.Next(Fragments.Length)]);
                    break;
                case 1 when at < text.Length:
                    text.Remove(at, Math.Min(random.Next(1, 12), text.Length - at));
                    break;
                default:
                    var fragment = Fragments[random.Next(Fragments.Length)];
                    text.Remove(at, Math.Min(fragment.Length, text.Length - at)).Insert(at, fragment);
                    break;
            }
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
