using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Export.Onnx;

/// <summary>
/// Exports a (fine-tuned) <see cref="LlamaForCausalLM"/> (model types llama, mistral, qwen2) to an ONNX model
/// (opset 17) that ONNX Runtime serves on CPU or CUDA. The graph is written node by node, one small function per
/// block, mirroring <c>Models/Llama</c> and <c>Modules</c> (see <see cref="BertOnnxExporter"/> for the BERT twin).
/// <para>Inputs, int64 (batch, sequence) with symbolic dims <c>batch</c> and <c>sequence</c>: <c>input_ids</c>,
/// <c>attention_mask</c> (1 = token, 0 = padding; left or right padding) and <c>position_ids</c> (for a left-padded
/// batch pass <see cref="Modules.CausalMask.PositionIdsFromMask"/>'s <c>cumsum(mask) − 1</c>, as HF <c>generate()</c>;
/// for unpadded rows <c>0 .. T − 1</c>). Output: <c>logits</c> float32 (batch, sequence, vocab). Rows at padding
/// positions are not meaningful.</para>
/// <para>By default there is <b>no KV cache</b>: every call processes the whole sequence, so generating n tokens
/// costs n full forward passes. With <see cref="LlamaOnnxExportOptions.WithKvCache"/> the graph follows Hugging Face
/// Optimum's decoder layout: per layer i, inputs <c>past_key_values.{i}.key</c> / <c>.value</c> float32
/// (batch, num_kv_heads, past_sequence, head_dim) (symbolic <c>past_sequence</c>, 0 for the prefill) and outputs
/// <c>present.{i}.key</c> / <c>.value</c> (batch, num_kv_heads, past_sequence + sequence, head_dim), keys stored after
/// RoPE and before the grouped-query repeat. <c>attention_mask</c> then covers past + current positions
/// (batch, past_sequence + sequence); <c>input_ids</c> and <c>position_ids</c> are the current positions only. Feed each
/// <c>present</c> back as the next call's <c>past_key_values</c>.</para>
/// <para>Numerics follow the TorchSharp model in eval mode, in float32 throughout: RMSNorm decomposed
/// (Pow / ReduceMean / Add eps / Sqrt / Div / Mul), RoPE in HF's rotate_half layout with cos/sin computed in the graph
/// from <c>position_ids</c> and the <c>model.rotary_emb.inv_freq</c> initializer (already scaled for <c>linear</c> /
/// <c>llama3</c> rope_scaling), causal + padding mask as an additive float.MinValue, grouped-query attention by
/// repeating kv heads (Unsqueeze / Expand / Reshape), SwiGLU with SiLU as <c>x · Sigmoid(x)</c>, qwen2's q/k/v biases,
/// tied or untied <c>lm_head</c>. A model loaded in bfloat16/float16 is exported in float32 (its weights upcast),
/// so it computes more precisely than the half-precision TorchSharp forward. Mistral's <c>sliding_window</c> is not
/// applied (full causal attention), exactly as the TorchSharp model, which refuses longer sequences; the ONNX graph
/// does not check the length, so keep sequences within the window.</para>
/// <para>LoRA adapters are folded into the weights and QLoRA NF4 bases dequantized, as
/// <see cref="LlamaCheckpointWriter.SaveMerged"/> does; the model is not changed. Weights are initializers named
/// with the Hugging Face keys (<c>model.layers.0.self_attn.q_proj.weight</c>, <c>lm_head.weight</c>) in PyTorch's
/// [out, in] layout; a <c>Transpose</c> node (folded by ONNX Runtime at load) feeds each MatMul.</para>
/// Checked against the TorchSharp forward with ONNX Runtime on the llama (GQA), tied llama3-scaled and qwen2
/// fixtures, unpadded and left-padded: max |logit difference| &lt;= 1e-4.
/// </summary>
public static class LlamaOnnxExporter
{
    public const long Opset = 17;
    public const string BatchDim = "batch";
    public const string SequenceDim = "sequence";
    public const string InputIdsName = "input_ids";
    public const string AttentionMaskName = "attention_mask";
    public const string PositionIdsName = "position_ids";
    public const string LogitsName = "logits";
    public const string PastSequenceDim = "past_sequence";
    public const string TotalSequenceDim = "past_sequence + sequence";

    /// <summary>Input name of layer <paramref name="layer"/>'s cached keys (<c>.key</c>) or values (<c>.value</c>).</summary>
    public static string PastName(int layer, bool key) => $"past_key_values.{layer}.{(key ? "key" : "value")}";

    /// <summary>Output name of layer <paramref name="layer"/>'s updated keys (<c>.key</c>) or values (<c>.value</c>).</summary>
    public static string PresentName(int layer, bool key) => $"present.{layer}.{(key ? "key" : "value")}";

    /// <summary>
    /// Writes the ONNX model to <paramref name="path"/> atomically (temporary file, then rename); with weights above
    /// <see cref="LlamaOnnxExportOptions.ExternalDataAboveBytes"/>, large initializers go to <c>&lt;path&gt;.data</c>.
    /// </summary>
    public static void Export(LlamaForCausalLM model, string path, LlamaOnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new LlamaOnnxExportOptions();
        var onnx = BuildModel(model, options);
        long weightBytes = onnx.Graph.Initializers.Sum(t => (long)t.RawData.Length);
        if (weightBytes > options.ExternalDataAboveBytes || options.ExternalDataAboveBytes == 0)
            OnnxModelWriter.WriteWithExternalData(onnx, path);
        else
            AtomicFile.Write(path, stream => OnnxModelWriter.Write(onnx, stream));
    }

    /// <summary>The ONNX model as protobuf bytes (e.g. for an in-memory ONNX Runtime session).</summary>
    public static byte[] ExportToBytes(LlamaForCausalLM model, LlamaOnnxExportOptions? options = null) =>
        OnnxModelWriter.ToBytes(BuildModel(model, options));

    /// <summary>The ONNX object model of <paramref name="model"/> (weights copied, LoRA merged; the model is not changed).</summary>
    public static OnnxModel BuildModel(LlamaForCausalLM model, LlamaOnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new LlamaOnnxExportOptions();
        options.Validate();
        var config = model.Config;
        config.Validate();

        using var scope = NewDisposeScope();
        var graph = new OnnxGraphBuilder(options.GraphName);
        var merged = LoraMerge.MergedStateDict(model, ScalarType.Float32);
        var weights = new OnnxWeightTable(merged, graph, options.WeightPrecision);
        var g = new LlamaGraph(graph, weights, config);

        bool cached = options.WithKvCache;
        graph.Graph.Inputs.Add(TokenInput(InputIdsName, SequenceDim));
        graph.Graph.Inputs.Add(TokenInput(AttentionMaskName, cached ? TotalSequenceDim : SequenceDim));
        graph.Graph.Inputs.Add(TokenInput(PositionIdsName, SequenceDim));

        var x = g.Embeddings(InputIdsName);                                                         // (B, T, C)
        var (cos, sin) = g.RotaryCosSin(PositionIdsName, model.Model.Rotary.InverseFrequencies);     // (B, 1, T, d)
        var mask = cached
            ? g.CausalMaskWithPast(AttentionMaskName, InputIdsName)                                 // (B, 1, T, P + T)
            : g.CausalMask(AttentionMaskName);                                                      // (B, 1, T, T)
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            LlamaGraph.LayerCache? cache = null;
            if (cached)
            {
                cache = new(PastName(i, key: true), PastName(i, key: false), PresentName(i, key: true), PresentName(i, key: false));
                graph.Graph.Inputs.Add(CacheValue(cache.PastKey, config, PastSequenceDim));
                graph.Graph.Inputs.Add(CacheValue(cache.PastValue, config, PastSequenceDim));
            }
            x = g.Layer(i, x, cos, sin, mask, cache);                                               // (B, T, C)
        }
        var h = g.FinalNorm(x);                                                                     // (B, T, C)
        g.LmHead(h, LogitsName);                                                                    // (B, T, V)
        weights.ThrowIfAnyUnused();

        graph.Graph.Outputs.Add(new OnnxValueInfo
        {
            Name = LogitsName,
            Shape = [OnnxDim.Symbolic(BatchDim), OnnxDim.Symbolic(SequenceDim), OnnxDim.Fixed(config.VocabSize)],
        });
        for (var i = 0; cached && i < config.NumHiddenLayers; i++)
        {
            graph.Graph.Outputs.Add(CacheValue(PresentName(i, key: true), config, TotalSequenceDim));
            graph.Graph.Outputs.Add(CacheValue(PresentName(i, key: false), config, TotalSequenceDim));
        }
        return new OnnxModel
        {
            IrVersion = 8,
            ProducerName = FineTuneInfo.Name,
            ProducerVersion = typeof(LlamaOnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            OpsetImports = { new OnnxOpsetImport("", Opset) },
            Graph = graph.Graph,
        };
    }

    private static OnnxValueInfo TokenInput(string name, string lengthDim) => new()
    {
        Name = name,
        ElemType = OnnxDataType.Int64,
        Shape = [OnnxDim.Symbolic(BatchDim), OnnxDim.Symbolic(lengthDim)],
    };

    /// <summary>A cache tensor: float32 (batch, num_kv_heads, <paramref name="lengthDim"/>, head_dim).</summary>
    private static OnnxValueInfo CacheValue(string name, LlamaConfig config, string lengthDim) => new()
    {
        Name = name,
        ElemType = OnnxDataType.Float,
        Shape = [OnnxDim.Symbolic(BatchDim), OnnxDim.Fixed(config.KeyValueHeads), OnnxDim.Symbolic(lengthDim),
            OnnxDim.Fixed(config.EffectiveHeadDim)],
    };
}
