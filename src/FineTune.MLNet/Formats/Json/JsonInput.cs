using System.Text.Json;

namespace FineTune.MLNet.Formats.Json;

/// <summary>
/// Parses JSON from outside (config.json, tokenizer.json, adapter_config.json, safetensors headers, ...) and checks it
/// once, up front, for what System.Text.Json only reports later with exceptions no caller expects: strings and keys
/// that are not valid Unicode (lone surrogate escapes such as <c>"\ud800"</c>, invalid UTF-8 bytes), duplicate keys
/// (Python keeps the last, <c>JsonObject</c> throws, <c>JsonElement</c> finds either) and nesting deeper than
/// <see cref="MaxDepth"/>. A leading UTF-8 byte order mark is skipped. A problem is reported through the caller's <c>fail</c> with a phrase such as
/// <c>is not valid JSON (...)</c> or <c>has the key 'a.b' twice</c>, to follow the name of the file.
/// </summary>
public static class JsonInput
{
    /// <summary>Deepest nesting accepted (System.Text.Json's default); real files nest a few levels.</summary>
    public const int MaxDepth = 64;

    /// <summary>Cap on a JSON file's size: the largest real tokenizer.json files are tens of megabytes.</summary>
    public const long MaxFileBytes = 512L << 20;

    /// <summary>Cap on config-like files (config.json, adapter_config.json, tokenizer_config.json with its chat template).</summary>
    public const long MaxConfigFileBytes = 16L << 20;

    /// <summary>Reads and checks the JSON file at <paramref name="path"/>; <paramref name="fail"/> makes the exception from a problem phrase.</summary>
    public static JsonDocument ParseFile(string path, string what, Func<string, Exception?, Exception> fail, long maxBytes = MaxFileBytes) =>
        Parse(BoundedFile.ReadAllBytes(path, maxBytes, what), fail);

    /// <summary>Parses and checks <paramref name="utf8"/>; the caller disposes the document.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, Func<string, Exception?, Exception> fail)
    {
        if (utf8.Span.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..]; // a UTF-8 byte order mark, as some Windows editors write; File.ReadAllText drops it too
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            throw fail($"is not valid JSON ({e.Message})", e);
        }
        try
        {
            Check(doc.RootElement, "", fail);
            return doc;
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    private static void Check(JsonElement element, string at, Func<string, Exception?, Exception> fail)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    var name = Decode(() => property.Name, at, "a key", fail);
                    var path = at.Length == 0 ? name : $"{at}.{name}";
                    if (!seen.Add(name)) throw fail($"has the key '{path}' twice", null);
                    Check(property.Value, path, fail);
                }
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in element.EnumerateArray()) Check(item, $"{at}[{i++}]", fail);
                break;
            case JsonValueKind.String:
                Decode(() => element.GetString()!, at, "a string", fail);
                break;
        }
    }

    private static string Decode(Func<string> read, string at, string what, Func<string, Exception?, Exception> fail)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException e)
        {
            throw fail($"has {what} at '{(at.Length == 0 ? "$" : at)}' that is not valid Unicode ({e.Message})", e);
        }
    }
}
