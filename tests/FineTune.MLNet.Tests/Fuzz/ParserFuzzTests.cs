using System.Text;
using FineTune.MLNet.ChatTemplates;
using FineTune.MLNet.Data;
using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Llama2c;
using FineTune.MLNet.Import.Llama2c;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>
/// 10,000 seeded mutations of valid files per parser of outside data (plus the committed regression inputs): each is
/// accepted or refused with a documented exception naming the file (<see cref="FuzzContract"/>), never a crash or hang.
/// A new parser is one more test: seeds, and how to feed it one input.
/// </summary>
public sealed class ParserFuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly ChatMessage[] Conversation = [new("user", "Hi"), new("assistant", "Hello!"), new("user", "Bye")];

    private readonly TempDir _dir = new("fuzz");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SafeTensors_file() => Run(new FuzzTarget("safetensors", FuzzSeeds.SafeTensorsFiles(), bytes =>
    {
        var path = Write("fuzz.safetensors", bytes);
        foreach (var tensor in SafeTensorsFile.Load(path).Values) tensor.Dispose();
    }, "fuzz.safetensors", FuzzSeeds.MutateSafeTensorsHeader));

    [Fact]
    public void SafeTensors_index()
    {
        var folder = CheckpointTestFiles.Fixture("checkpoints", "tiny-llama-bf16-sharded");
        foreach (var shard in Directory.EnumerateFiles(folder, "*.safetensors"))
        {
            File.Copy(shard, _dir.File(Path.GetFileName(shard)));
        }
        Run(new FuzzTarget("safetensors-index", [FuzzSeeds.Fixture("checkpoints", "tiny-llama-bf16-sharded", HfCheckpoint.IndexFileName)], bytes =>
        {
            Write(HfCheckpoint.IndexFileName, bytes);
            foreach (var tensor in HfCheckpoint.LoadFolder(_dir.Path).Values) tensor.Dispose();
        }, HfCheckpoint.IndexFileName));
    }

    [Fact]
    public void Encoder_config_json() => Run(new FuzzTarget("config-encoder",
        [FuzzSeeds.Fixture("tiny-bert", "config.json"), Encoding.UTF8.GetBytes("""{"model_type":"distilbert","vocab_size":100,"dim":32,"n_layers":2,"n_heads":4,"hidden_dim":64,"num_labels":2}""")],
        bytes => HfEncoderConfig.Read(Write("config.json", bytes)), "config.json"));

    [Fact]
    public void Decoder_config_json() => Run(new FuzzTarget("config-decoder",
        [FuzzSeeds.Fixture("llama", "llama", "config.json"), FuzzSeeds.Fixture("llama", "qwen2", "config.json")],
        bytes => LlamaConfigJson.Read(Write("config.json", bytes)), "config.json"));

    [Fact]
    public void Tokenizer_json() => Run(new FuzzTarget("tokenizer-json",
        [FuzzSeeds.Fixture("hf-tokenizer", "byte-level-split", "tokenizer.json"), FuzzSeeds.Fixture("hf-tokenizer", "sp-metaspace", "tokenizer.json")],
        bytes =>
        {
            Write("tokenizer.json", bytes);
            LoadAndUseTokenizer();
        }, "tokenizer.json"));

    [Fact]
    public void Tokenizer_config_json()
    {
        File.Copy(CheckpointTestFiles.Fixture("hf-tokenizer", "byte-level-chatml", "tokenizer.json"), _dir.File("tokenizer.json"));
        Run(new FuzzTarget("tokenizer-config-json",
            [FuzzSeeds.Fixture("hf-tokenizer", "byte-level-chatml", "tokenizer_config.json"),
             Encoding.UTF8.GetBytes("""{"bos_token": {"content": "<s>", "special": true}, "eos_token": "<|im_end|>", "add_bos_token": false, "model_max_length": 1e30, "chat_template": [{"name": "default", "template": "{{ messages[0].content }}"}]}""")],
            bytes =>
            {
                Write("tokenizer_config.json", bytes);
                LoadAndUseTokenizer();
            }, "tokenizer_config.json"));
    }

    [Fact]
    public void SentencePiece_model() => Run(new FuzzTarget("sentencepiece-model", [FuzzSeeds.Fixture("hf-tokenizer", "sp-model", "tokenizer.model")], bytes =>
    {
        Write("tokenizer.model", bytes);
        LoadAndUseTokenizer();
    }, "tokenizer.model"));

    [Fact]
    public void Peft_adapter_config_json() => Run(new FuzzTarget("adapter-config-json",
        [FuzzSeeds.Fixture("llama", "lora", "adapter_config.json"), FuzzSeeds.Fixture("llama", "lora-rslora", "adapter_config.json")],
        bytes => PeftAdapterConfig.FromJsonFile(Write("adapter_config.json", bytes)).ToLoraSettings(), "adapter_config.json"));

    [Fact]
    public void Onnx_model() => Run(new FuzzTarget("onnx", [FuzzSeeds.Onnx()], bytes => OnnxModelReader.Read(bytes, "fuzz.onnx"), "fuzz.onnx"));

    [Fact]
    public void Gguf_file() => Run(new FuzzTarget("gguf", [FuzzSeeds.Gguf()], bytes =>
    {
        var file = GgufFile.Read(bytes, "fuzz.gguf");
        foreach (var tensor in file.Tensors) file.ReadTensorAsFloat32(tensor);
    }, "fuzz.gguf"));

    [Fact]
    public void Csv() => Run(new FuzzTarget("csv", FuzzSeeds.Csv(), bytes => DelimitedTextReader.Read(Write("fuzz.csv", bytes)).RequireDataRows(), "fuzz.csv"));

    [Fact]
    public void Tsv() => Run(new FuzzTarget("tsv", FuzzSeeds.Tsv(), bytes => DelimitedTextReader.Read(Write("fuzz.tsv", bytes)).RequireDataRows(), "fuzz.tsv"));

    [Fact]
    public void Chat_templates() => Run(new FuzzTarget("chat-template", FuzzSeeds.ChatTemplates(), bytes =>
    {
        var template = ChatTemplate.Parse(Encoding.UTF8.GetString(bytes));
        template.Render(Conversation, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>");
    }, "", TemplateMutator.Mutate) { IsRefusal = FuzzContract.IsTemplateRefusal });

    private void LoadAndUseTokenizer()
    {
        var tokenizer = HfTokenizer.FromFolder(_dir.Path);
        var ids = tokenizer.Encode("Hello wörld 123 <|im_start|> \u00e9\U0001F600");
        tokenizer.Decode(ids);
    }

    [Fact]
    public void Llama2c_checkpoint() => Run(new FuzzTarget("llama2c-checkpoint", FuzzSeeds.Llama2cCheckpoints(_dir.File("seed.bin")),
        bytes => Llama2cCheckpoint.Read(Write("model.bin", bytes)), "model.bin"));

    [Fact]
    public void Llama2c_tokenizer() => Run(new FuzzTarget("llama2c-tokenizer", [FuzzSeeds.Fixture("llama2c", "tok512.bin")],
        bytes => Llama2cTokenizerReader.Read(Write("tok512.bin", bytes)), "tok512.bin"));

    private string Write(string name, byte[] bytes)
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private void Run(FuzzTarget target) => FuzzRunner.Run(target, output);
}
