using System.Text.Json;
using FineTune.MLNet.ChatTemplates;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// Reads a chat-messages cell, <c>[{"role":"user","content":"..."},{"role":"assistant","content":"..."}]</c>
/// (the TRL / OpenAI conversational format), into <see cref="ChatMessage"/>s. Other keys of a message are ignored.
/// </summary>
public static class SftConversationJson
{
    /// <summary>Parses and validates one cell.</summary>
    /// <param name="json">The cell text.</param>
    /// <param name="where">Where the cell came from, for errors, e.g. <c>row 12, column 'messages'</c>.</param>
    /// <exception cref="SftDataException">Malformed JSON, not a non-empty array of objects, or a message whose
    /// <c>role</c> / <c>content</c> is missing or not a string; the message names <paramref name="where"/> and the field.</exception>
    public static IReadOnlyList<ChatMessage> Parse(string? json, string where)
    {
        if (string.IsNullOrWhiteSpace(json)) throw new SftDataException($"{where}: the messages cell is empty; expected a JSON array of {{\"role\", \"content\"}} objects.");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new SftDataException($"{where}: the messages cell is not valid JSON ({ex.Message}).", ex);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
                throw new SftDataException($"{where}: expected a JSON array of messages, got a JSON {Describe(root.ValueKind)}.");
            if (root.GetArrayLength() == 0) throw new SftDataException($"{where}: the messages array is empty.");
            var messages = new List<ChatMessage>(root.GetArrayLength());
            int i = 0;
            foreach (var item in root.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                    throw new SftDataException($"{where}: messages[{i}] must be an object with 'role' and 'content', got a JSON {Describe(item.ValueKind)}.");
                messages.Add(new ChatMessage(ReadString(item, "role", i, where), ReadString(item, "content", i, where)));
                i++;
            }
            return messages;
        }
    }

    private static string ReadString(JsonElement message, string field, int index, string where)
    {
        if (!message.TryGetProperty(field, out var value))
            throw new SftDataException($"{where}: messages[{index}] has no '{field}'.");
        if (value.ValueKind != JsonValueKind.String)
            throw new SftDataException($"{where}: messages[{index}].{field} must be a string, got a JSON {Describe(value.ValueKind)}.");
        var text = value.GetString()!;
        if (field == "role" && text.Length == 0) throw new SftDataException($"{where}: messages[{index}].role is empty.");
        return text;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
