using System.Collections;
using System.Text.Json;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>Converts .NET values passed as template variables into the interpreter's Python-like values.</summary>
internal static class ValueConverter
{
    public static object? FromDotNet(object? value, string path) => value switch
    {
        null => null,
        string or bool or long or double => value,
        int or short or byte or sbyte or ushort or uint => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        ulong u => u <= long.MaxValue ? (long)u : (double)u,
        float f => (double)f,
        decimal m => (double)m,
        char c => c.ToString(),
        ChatMessage message => MessageToDict(message),
        JsonElement element => FromJson(element),
        Undefined or Namespace or JinjaFunction => value,
        IDictionary<string, object?> dict => ToDict(dict, path),
        IReadOnlyDictionary<string, object?> dict => ToDict(dict, path),
        IDictionary dict => ToDict(dict.Keys.Cast<object>().ToDictionary(k => k.ToString() ?? "", k => dict[k]), path),
        IEnumerable items => items.Cast<object?>().Select((x, i) => FromDotNet(x, $"{path}[{i}]")).ToList(),
        _ => throw new ChatTemplateException(
            $"Template variable '{path}' has type {value.GetType().Name}: expected string, number, bool, null, list, dictionary, ChatMessage or JsonElement"),
    };

    public static OrderedDictionary<string, object?> MessageToDict(ChatMessage message) => new()
    {
        ["role"] = message.Role,
        ["content"] = message.Content,
    };

    private static OrderedDictionary<string, object?> ToDict(IEnumerable<KeyValuePair<string, object?>> pairs, string path)
    {
        var result = new OrderedDictionary<string, object?>();
        foreach (var (key, v) in pairs)
        {
            result[key] = FromDotNet(v, $"{path}.{key}");
        }

        return result;
    }

    private static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out long l) ? (object)l : element.GetDouble(),
        JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => element.EnumerateObject().Aggregate(
            new OrderedDictionary<string, object?>(),
            (dict, p) =>
            {
                dict[p.Name] = FromJson(p.Value);
                return dict;
            }),
        _ => throw new ChatTemplateException($"unsupported JSON value kind {element.ValueKind}"),
    };
}
