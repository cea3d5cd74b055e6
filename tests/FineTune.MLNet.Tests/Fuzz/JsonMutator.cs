using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>
/// Seeded structure-aware mutations of a valid JSON file: a value becomes a huge, negative, fractional or out-of-range
/// number, a value of the wrong type, an empty / long / NUL / lone-surrogate string, a value nested 70 or 5,000 levels
/// deep; keys are duplicated, renamed or removed; arrays get items duplicated or emptied. Raw JSON text the writer
/// refuses to produce (duplicate keys, lone surrogates, deep nesting, 1e400) is substituted for marker strings after
/// serialising.
/// </summary>
internal static class JsonMutator
{
    private const string Marker = "@@fuzz";

    private static readonly string[] Numbers =
    [
        "0", "-1", "1", "2", "-2147483649", "2147483647", "2147483648", "4294967296", "1e12", "1e15", "1e308", "-1e308",
        "1.5", "-0.0", "0.1", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
        "99999999999999999999999999", "1e400", "-1e400", "1e-400", "3.0", "65", "100000",
    ];

    private static readonly string[] Others =
    [
        "null", "true", "false", "\"\"", "\"x\"", "[]", "{}", "[1, 2]", "[\"a\", \"b\"]", "{\"a\": 1}", "\"\\u0000\"",
        "\"\\ud800\"", "\"a\\udc00b\"", "\"\\ud83d\\ude00\"", "\"../../etc/passwd\"", "\"/etc/passwd\"", "\"é ñ 中\"",
        "[null]", "[[]]", "{\"\": null}", "\"-1\"", "\"1e9\"",
    ];

    /// <summary>1 to 3 structural mutations of <paramref name="seed"/> (a parsed copy is changed; the seed is not).</summary>
    public static byte[] Mutate(JsonNode seed, Random random)
    {
        var root = seed.DeepClone();
        var raw = new List<string>();
        for (int k = random.Next(1, 4); k > 0; k--) root = MutateOnce(root, raw, random);
        var text = root.ToJsonString();
        for (int i = 0; i < raw.Count; i++) text = text.Replace($"\"{Marker}{i}\"", raw[i], StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text);
    }

    private static JsonNode MutateOnce(JsonNode root, List<string> raw, Random random)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var node = nodes[random.Next(nodes.Count)];
        string Raw(string text)
        {
            raw.Add(text);
            return $"{Marker}{raw.Count - 1}";
        }

        switch (random.Next(8))
        {
            case 0:
            case 1:
                return Replace(root, node, JsonValue.Create(Raw(Numbers[random.Next(Numbers.Length)])));
            case 2:
                return Replace(root, node, JsonValue.Create(Raw(Others[random.Next(Others.Length)])));
            case 3: // deep nesting
                {
                    int depth = random.Next(2) == 0 ? 70 : 5000;
                    return Replace(root, node, JsonValue.Create(Raw(new string('[', depth) + "1" + new string(']', depth))));
                }
            case 4 when node is JsonObject obj && obj.Count > 0: // duplicate key
                {
                    var key = obj.ElementAt(random.Next(obj.Count)).Key;
                    raw.Add(JsonSerializer.Serialize(key));
                    obj[$"{Marker}{raw.Count - 1}"] = JsonValue.Create(Raw(Numbers[random.Next(Numbers.Length)]));
                    return root;
                }
            case 5 when node.Parent is JsonObject parent: // remove or rename a key
                {
                    var name = node.GetPropertyName();
                    parent.Remove(name);
                    if (random.Next(2) == 0) parent[name + "_"] = node;
                    return root;
                }
            case 6 when node is JsonArray array && array.Count > 0: // duplicate items or empty the array
                if (random.Next(3) == 0) array.Clear();
                else for (int i = random.Next(1, 4); i > 0; i--) array.Add(array[random.Next(array.Count)]?.DeepClone());
                return root;
            case 7 when node is JsonValue value && value.GetValueKind() == JsonValueKind.String: // long or odd string
                return Replace(root, node, random.Next(2) == 0
                    ? JsonValue.Create(new string('x', random.Next(1, 20_000)))
                    : JsonValue.Create(value.GetValue<string>() + value.GetValue<string>()));
            default:
                return Replace(root, node, JsonValue.Create(Raw(Others[random.Next(Others.Length)])));
        }
    }

    private static void Collect(JsonNode? node, List<JsonNode> into)
    {
        if (node is null) return;
        into.Add(node);
        if (node is JsonObject obj) foreach (var (_, child) in obj) Collect(child, into);
        else if (node is JsonArray array) foreach (var child in array) Collect(child, into);
    }

    /// <summary>Puts <paramref name="replacement"/> where <paramref name="node"/> is; returns the (possibly new) root.</summary>
    private static JsonNode Replace(JsonNode root, JsonNode node, JsonNode replacement)
    {
        switch (node.Parent)
        {
            case null:
                return replacement;
            case JsonObject parent:
                parent[node.GetPropertyName()] = replacement;
                return root;
            case JsonArray array:
                array[node.GetElementIndex()] = replacement;
                return root;
            default:
                return root;
        }
    }
}
