using System.Buffers.Binary;
using System.Text;
using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Formats.Llama2c;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Onnx;

namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>Small valid files to mutate: committed fixtures, or built here byte by byte (kept small so 10,000 inputs run fast).</summary>
internal static class FuzzSeeds
{
    public static byte[] Fixture(params string[] parts) => File.ReadAllBytes(CheckpointTestFiles.Fixture(parts));

    /// <summary>A safetensors file: u64 header length, JSON header, data.</summary>
    public static byte[] SafeTensors(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        for (int i = 0; i < dataBytes; i++) bytes[8 + json.Length + i] = (byte)(i * 37);
        return bytes;
    }

    public static IReadOnlyList<byte[]> SafeTensorsFiles() =>
    [
        SafeTensors("""{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}}""", 22),
        SafeTensors("""{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"y":{"dtype":"F16","shape":[2,1],"data_offsets":[8,12]},"z":{"dtype":"BOOL","shape":[0],"data_offsets":[12,12]}}""", 12),
    ];

    /// <summary>The header of a safetensors file mutated as JSON, then put back behind a correct length prefix.</summary>
    public static byte[] MutateSafeTensorsHeader(byte[] file, Random random)
    {
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = System.Text.Json.Nodes.JsonNode.Parse(file.AsSpan(8, length))!;
        var mutated = JsonMutator.Mutate(header, random);
        var bytes = new byte[8 + mutated.Length + file.Length - 8 - length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)mutated.Length);
        mutated.CopyTo(bytes, 8);
        file.AsSpan(8 + length).CopyTo(bytes.AsSpan(8 + mutated.Length));
        return bytes;
    }

    /// <summary>Tiny llama2.c checkpoints (dim 8, 1 layer, vocab 16) in the three layouts: v0 legacy, v1 fp32, v2 Q8_0 (group 8).</summary>
    public static IReadOnlyList<byte[]> Llama2cCheckpoints(string scratch)
    {
        var random = new Random(3);
        return [.. new[] { (0, false), (1, true), (2, true) }.Select(v =>
        {
            var header = new Llama2cHeader(v.Item1, Dim: 8, HiddenDim: 16, Layers: 1, Heads: 2, KvHeads: 1, VocabSize: 16, SeqLen: 8, SharedClassifier: v.Item2, GroupSize: v.Item1 == 2 ? 8 : 0);
            var tensors = Llama2cLayout.Weights(header).ToDictionary(s => s.Name, s => Enumerable.Range(0, (int)s.Count).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
            Llama2cCheckpointWriter.Write(scratch, header, tensors);
            return File.ReadAllBytes(scratch);
        })];
    }

    public static byte[] Onnx() => OnnxModelWriter.ToBytes(OnnxTestGraphs.MatMulAdd(3, 2));

    public static byte[] Gguf()
    {
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.architecture", GgufValue.String("llama")),
            new("general.alignment", GgufValue.UInt32(32)),
            new("llama.context_length", GgufValue.UInt32(64)),
            new("llama.rope.freq_base", GgufValue.Float32(10000)),
            new("tokenizer.ggml.tokens", GgufValue.Strings(["a", "b", "<s>"])),
            new("tokenizer.ggml.scores", GgufValue.Floats([0f, -1f, -2f])),
        };
        var tensors = new List<GgufTensorData>
        {
            GgufTensorData.FromBytes("w", [4, 2], GgmlType.F32, new byte[32]),
            GgufTensorData.FromBytes("v", [3], GgmlType.F16, new byte[6]),
        };
        using var stream = new MemoryStream();
        GgufWriter.Write(stream, metadata, tensors);
        return stream.ToArray();
    }

    public static IReadOnlyList<byte[]> Csv() =>
    [
        Encoding.UTF8.GetBytes("text,label\nhello world,pos\n\"quoted, with comma\",neg\n\"multi\nline \"\"q\"\"\",pos\n"),
        Encoding.UTF8.GetBytes("\uFEFFtext,text_pair,label\r\na,b,1\r\nc,,0\r\n"),
    ];

    public static IReadOnlyList<byte[]> Tsv() =>
    [
        Encoding.UTF8.GetBytes("text\tlabel\nhello, world\tpos\n\"tab\tinside\"\tneg\n"),
        Encoding.UTF8.GetBytes("prompt\tchosen\trejected\r\nq\ta\tb\r\n\r\n\"multi\r\nline\"\tc\td\r\n"),
    ];

    public static IReadOnlyList<byte[]> ChatTemplates() =>
        [.. Directory.EnumerateFiles(CheckpointTestFiles.Fixture("chat-templates"), "*.jinja").Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];
}
