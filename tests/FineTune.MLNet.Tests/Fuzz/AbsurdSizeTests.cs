using System.Text;
using FineTune.MLNet.Data;
using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Json;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Gguf;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;

namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>
/// Files that ask for absurd sizes are refused from their header or their length alone, before anything of that size
/// is allocated, with a message naming the file and the field. Oversized files are made sparse (SetLength), so no test
/// writes or reads gigabytes.
/// </summary>
public sealed class AbsurdSizeTests : IDisposable
{
    private readonly TempDir _dir = new("absurd");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_safetensors_header_of_2_to_the_40_bytes_is_refused_from_its_length_prefix()
    {
        var path = _dir.File("huge-header.safetensors");
        CheckpointTestFiles.WriteRaw(path, "{}", 0, declaredLength: 1UL << 40);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.ReadHeader(path));
        Assert.Contains("huge-header.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Contains("1099511627776", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_decoder_config_asking_for_terabytes_is_refused_naming_the_fields()
    {
        var path = Write("config.json", """{"model_type": "llama", "vocab_size": 1000000000, "hidden_size": 65536, "intermediate_size": 262144, "num_hidden_layers": 100000, "num_attention_heads": 64}""");
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.FromJsonFile(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains("num_hidden_layers", StringComparison.Ordinal), e.Message);
        Assert.Contains("parameters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_encoder_config_asking_for_terabytes_is_refused_naming_the_fields()
    {
        var path = Write("config.json", """{"model_type": "bert", "vocab_size": 2000000000, "hidden_size": 65536, "num_hidden_layers": 100000, "num_attention_heads": 64, "intermediate_size": 262144}""");
        var e = Assert.Throws<InvalidDataException>(() => HfEncoderConfig.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains("num_hidden_layers", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void A_plausible_but_too_large_model_is_refused_before_it_is_built()
    {
        // 7e11 parameters: under the 1e12 sanity cap, but 2.6 TB in float32, more than any test machine has.
        var config = new LlamaConfig
        {
            ModelType = "llama", VocabSize = 32000, HiddenSize = 32768, IntermediateSize = 131072, NumHiddenLayers = 50, NumAttentionHeads = 64,
        };
        config.Validate();
        Assert.InRange(ModelMemory.ParameterCount(config), 5e11, ModelMemory.MaxParameters);
        var e = Assert.Throws<InvalidOperationException>(() => new LlamaForCausalLM(config));
        Assert.Contains("GiB", e.Message, StringComparison.Ordinal);
        Assert.Contains("parameters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parameter_counts_match_the_real_models()
    {
        // TinyLlama-1.1B: 1,100,048,384 parameters (HF num_parameters()).
        var tiny = new LlamaConfig { ModelType = "llama", VocabSize = 32000, HiddenSize = 2048, IntermediateSize = 5632, NumHiddenLayers = 22, NumAttentionHeads = 32, NumKeyValueHeads = 4 };
        Assert.Equal(1_100_048_384, ModelMemory.ParameterCount(tiny));
    }

    [Theory]
    [InlineData("config.json", JsonInput.MaxConfigFileBytes)]
    [InlineData("adapter_config.json", JsonInput.MaxConfigFileBytes)]
    [InlineData("tokenizer.model", SentencePieceModel.MaxFileBytes)]
    [InlineData("model.safetensors.index.json", HfCheckpoint.MaxIndexBytes)]
    [InlineData("data.csv", DelimitedTextReader.MaxFileBytes)]
    public void Files_over_their_cap_are_refused_from_their_length(string name, long cap)
    {
        var path = _dir.File(name);
        using (var stream = File.Create(path))
        {
            stream.Write("{"u8);
            stream.SetLength(cap + 1); // sparse: nothing is written
        }
        Action read = name switch
        {
            "config.json" => () => LlamaConfig.FromJsonFile(path),
            "adapter_config.json" => () => PeftAdapterConfig.FromJsonFile(path),
            "tokenizer.model" => () => HfTokenizer.FromFolder(_dir.Path),
            "model.safetensors.index.json" => () => HfCheckpoint.LoadFolder(_dir.Path),
            _ => () => DelimitedTextReader.Read(path),
        };
        var e = Assert.ThrowsAny<Exception>(read);
        Assert.True(e is InvalidDataException or SafeTensorsFormatException, e.GetType().Name);
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
        Assert.Contains($"{cap:N0}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_csv_record_over_the_cap_is_refused_naming_its_line()
    {
        var path = _dir.File("long.csv");
        File.WriteAllText(path, "text,label\nshort,a\n" + new string('x', DelimitedTextReader.MaxRecordChars + 1) + ",b\n");
        var e = Assert.Throws<InvalidDataException>(() => DelimitedTextReader.Read(path));
        Assert.Contains("long.csv: line 3 (data row 2)", e.Message, StringComparison.Ordinal);
        Assert.Contains("character limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unclosed_quote_over_the_cap_is_refused_naming_the_line_it_opened_on()
    {
        var path = _dir.File("quote.csv");
        File.WriteAllText(path, "text,label\n\"" + new string('y', DelimitedTextReader.MaxRecordChars + 1) + "\",b\n");
        var e = Assert.Throws<InvalidDataException>(() => DelimitedTextReader.Read(path));
        Assert.Contains("quote.csv: line 2 (data row 1): a quoted field", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1UL << 40, 0UL, "tensor_count")]
    [InlineData(0UL, ulong.MaxValue, "metadata_kv_count")]
    public void Gguf_counts_larger_than_the_file_are_refused(ulong tensors, ulong kvs, string field)
    {
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Read(new GgufBytes().Header(tensors, kvs).ToArray(), "absurd.gguf"));
        Assert.Equal(field, e.Field);
        Assert.Contains("absurd.gguf", e.Message, StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, text, Encoding.UTF8);
        return path;
    }
}
