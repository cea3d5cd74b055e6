using System.Text;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Checkpoints;
using Xunit;

namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>
/// The JSON inputs the fuzzer broke (System.Text.Json reports lone surrogates and invalid UTF-8 inside strings only when
/// a string is read, with InvalidOperationException; JsonObject throws ArgumentException on a duplicate key): each is
/// now refused up front with an InvalidDataException naming the file and the JSON path; a byte order mark is accepted.
/// </summary>
public sealed class JsonInputTests : IDisposable
{
    private const string Adapter = """{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]}""";

    private readonly TempDir _dir = new("json-input");

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string, string> Bad => new()
    {
        { """{"peft_type": "LORA", "r": 4, "target_modules": ["q_\ud800"]}""", "target_modules[0]", "not valid Unicode" },
        { """{"peft_type": "LORA", "r": 4, "r": 8, "target_modules": ["q_proj"]}""", "'r' twice", "twice" },
        { """{"peft_type": "LORA", "r": 4, "target_modules": ["q_proj"], "x": {"a": 1, "a": 2}}""", "'x.a' twice", "twice" },
        { """{"peft_type": "LORA", "\udc00": 1}""", "key at '$'", "not valid Unicode" },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void Adapter_config_with_bad_strings_or_duplicate_keys_is_refused_naming_the_path(string json, string at, string problem)
    {
        var path = Write("adapter_config.json", Encoding.UTF8.GetBytes(json));
        var e = Assert.Throws<InvalidDataException>(() => PeftAdapterConfig.FromJsonFile(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(at, e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_inside_a_string_is_refused()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"model_type": "llama?"}""");
        bytes[Array.IndexOf(bytes, (byte)'?')] = 0xFF;
        var path = Write("config.json", bytes);
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.FromJsonFile(path));
        Assert.Contains("'model_type' that is not valid Unicode", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_byte_order_mark_is_accepted()
    {
        var path = Write("adapter_config.json", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Adapter)]);
        Assert.Equal(4, PeftAdapterConfig.FromJsonFile(path).R);
        var config = Write("config.json", [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(CheckpointTestFiles.Fixture("llama", "llama", "config.json"))]);
        Assert.Equal("llama", LlamaConfig.FromJsonFile(config).ModelType);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
