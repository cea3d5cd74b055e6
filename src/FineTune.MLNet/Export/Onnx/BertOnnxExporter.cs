using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Peft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Export.Onnx;

/// <summary>
/// Exports a (fine-tuned) <see cref="BertForSequenceClassification"/> to an ONNX model (opset 17) that ONNX Runtime
/// serves on CPU or CUDA. TorchSharp has no ONNX export, so the graph is written node by node here, one small function
/// per block, mirroring <c>Models/Bert</c>.
/// <para>Inputs, int64 (batch, sequence) with symbolic dims <c>batch</c> and <c>sequence</c>: <c>input_ids</c>,
/// <c>attention_mask</c> (1 = token, 0 = padding) and <c>token_type_ids</c> (omitted for DistilBERT, which has no
/// token-type embeddings, as in Hugging Face exports). Outputs: <c>logits</c> (batch, num_labels), <c>probabilities</c>
/// (softmax of the logits) and, on request, <c>last_hidden_state</c> (batch, sequence, hidden).</para>
/// <para>Numerics follow the TorchSharp model in eval mode: LayerNormalization, exact erf GELU or the tanh approximation
/// as <c>hidden_act</c> says (or ReLU), padding as an additive float.MinValue mask on the attention scores, the
/// first token's state through the pooler (tanh; ReLU for DistilBERT's <c>pre_classifier</c>), then the classifier.
/// Dropout is the identity. LoRA adapters are merged into the exported weights. Weights are initializers named with
/// the Hugging Face keys (<c>bert.encoder.layer.0.attention.self.query.weight</c>, <c>classifier.weight</c>), stored
/// in PyTorch's [out, in] layout; a <c>Transpose</c> node (folded by ONNX Runtime at load) feeds each MatMul.</para>
/// Sequences may be at most <c>max_position_embeddings</c> tokens long (the position table is sliced to the input length).
/// Checked against the TorchSharp forward with ONNX Runtime: max |logit difference| &lt;= 1e-4 for all-MiniLM-L6-v2.
/// </summary>
public static class BertOnnxExporter
{
    public const long Opset = 17;
    public const string BatchDim = "batch";
    public const string SequenceDim = "sequence";
    public const string LogitsName = "logits";
    public const string ProbabilitiesName = "probabilities";
    public const string LastHiddenStateName = "last_hidden_state";

    /// <summary>Writes the ONNX model to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Export(BertForSequenceClassification model, string path, BertOnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var onnx = BuildModel(model, options);
        AtomicFile.Write(path, stream => OnnxModelWriter.Write(onnx, stream));
    }

    /// <summary>The ONNX model as protobuf bytes (e.g. for an in-memory ONNX Runtime session).</summary>
    public static byte[] ExportToBytes(BertForSequenceClassification model, BertOnnxExportOptions? options = null) =>
        OnnxModelWriter.ToBytes(BuildModel(model, options));

    /// <summary>The ONNX object model of <paramref name="model"/> (weights copied, LoRA merged; the model is not changed).</summary>
    public static OnnxModel BuildModel(BertForSequenceClassification model, BertOnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new BertOnnxExportOptions();
        options.Validate();
        var config = model.Config;
        config.Validate();

        using var scope = NewDisposeScope();
        var graph = new OnnxGraphBuilder(options.GraphName);
        var weights = new OnnxWeightTable(LoraMerge.MergedStateDict(model), graph, options.WeightPrecision);
        var g = new BertGraph(graph, weights, config);

        var hasTokenTypes = config.TypeVocabSize > 0;
        graph.Graph.Inputs.Add(TokenInput(OnnxReferenceRunner.InputIdsName));
        graph.Graph.Inputs.Add(TokenInput(OnnxReferenceRunner.AttentionMaskName));
        if (hasTokenTypes) graph.Graph.Inputs.Add(TokenInput(OnnxReferenceRunner.TokenTypeIdsName));

        var x = g.Embeddings(OnnxReferenceRunner.InputIdsName, hasTokenTypes ? OnnxReferenceRunner.TokenTypeIdsName : null);   // (B, T, H)
        var mask = g.AdditiveMask(OnnxReferenceRunner.AttentionMaskName);                                                      // (B, 1, 1, T)
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            x = g.Layer(i, x, mask);                                                                                           // (B, T, H)
        }
        var pooled = g.Pooler(x);                                                                                              // (B, H)
        var logits = g.Classifier(pooled, LogitsName);                                                                         // (B, C)
        graph.Node("Softmax", ProbabilitiesName, [logits], OnnxAttribute.Int("axis", -1));                                     // (B, C)
        weights.ThrowIfAnyUnused();

        var labels = OnnxDim.Fixed(config.NumLabels);
        graph.Graph.Outputs.Add(new OnnxValueInfo { Name = LogitsName, Shape = [OnnxDim.Symbolic(BatchDim), labels] });
        graph.Graph.Outputs.Add(new OnnxValueInfo { Name = ProbabilitiesName, Shape = [OnnxDim.Symbolic(BatchDim), labels] });
        if (options.IncludeLastHiddenState)
        {
            graph.Node("Identity", LastHiddenStateName, [x]);
            graph.Graph.Outputs.Add(new OnnxValueInfo
            {
                Name = LastHiddenStateName,
                Shape = [OnnxDim.Symbolic(BatchDim), OnnxDim.Symbolic(SequenceDim), OnnxDim.Fixed(config.HiddenSize)],
            });
        }
        return new OnnxModel
        {
            IrVersion = 8,
            ProducerName = FineTuneInfo.Name,
            ProducerVersion = typeof(BertOnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            OpsetImports = { new OnnxOpsetImport("", Opset) },
            Graph = graph.Graph,
        };
    }

    private static OnnxValueInfo TokenInput(string name) => new()
    {
        Name = name,
        ElemType = OnnxDataType.Int64,
        Shape = [OnnxDim.Symbolic(BatchDim), OnnxDim.Symbolic(SequenceDim)],
    };
}
