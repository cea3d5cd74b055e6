using FineTune.MLNet.Formats.Onnx;

namespace FineTune.MLNet.Export.Onnx;

/// <summary>
/// int8 dynamic quantization of an exported ONNX model for CPU serving, with ONNX's own operators as ONNX Runtime's
/// <c>quantize_dynamic</c> writes them. Each <c>MatMul</c> whose right input is a float32 weight (an initializer, or a
/// <c>Transpose</c> of one, as the exporters write <c>x Wᵀ</c>) becomes
/// <c>DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zero_point) → Cast → Mul(x_scale · W_scale)</c>:
/// weights symmetric int8 in [−127, 127] with zero point 0 (per output column or per tensor), activations uint8 with a
/// scale and zero point computed at run time (one <c>DynamicQuantizeLinear</c> per activation, shared by the MatMuls that
/// read it). Embedding tables read by <c>Gather</c> (BERT: word and token type; positions are a <c>Slice</c>) are stored int8 with one scale per row and dequantized after the
/// lookup (<c>Gather</c> of the rows and of their scales, <c>Cast</c>, <c>Mul</c>). Everything else stays float32.
/// </summary>
public static class OnnxDynamicQuantizer
{
    /// <summary>What was quantized: weight counts and float32 elements replaced.</summary>
    public sealed record Summary(int MatMuls, int Embeddings, long QuantizedElements);

    /// <summary>Quantizes <paramref name="model"/> in place and returns what it changed.</summary>
    public static Summary Quantize(OnnxModel model, DynamicQuantizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new DynamicQuantizationOptions();
        options.Validate();
        if (model.DefaultOpset is not >= 13)
            throw new ArgumentException($"The model's default opset is {model.DefaultOpset?.ToString() ?? "missing"}; dynamic quantization needs opset 13 or later.", nameof(model));
        return new Rewriter(model.Graph, options).Run();
    }

    /// <summary>Reads an ONNX file, quantizes it and writes the result to <paramref name="outputPath"/>.</summary>
    public static Summary QuantizeFile(string inputPath, string outputPath, DynamicQuantizationOptions? options = null)
    {
        var model = OnnxModelReader.Read(inputPath);
        var summary = Quantize(model, options);
        Formats.AtomicFile.Write(outputPath, s => OnnxModelWriter.Write(model, s));
        return summary;
    }

    private sealed class Rewriter(OnnxGraph graph, DynamicQuantizationOptions options)
    {
        private readonly Dictionary<string, OnnxTensor> _initializers = graph.Initializers.ToDictionary(t => t.Name);
        private readonly Dictionary<string, OnnxNode> _producers = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        private readonly Dictionary<string, (string Q, string Scale, string ZeroPoint)> _quantizedActivations = [];
        private readonly List<OnnxNode> _nodes = [];
        private readonly List<OnnxTensor> _newInitializers = [];
        private int _matMuls, _embeddings;
        private long _elements;

        public Summary Run()
        {
            foreach (var node in graph.Nodes)
            {
                if (!(node.OpType == "MatMul" && node.Domain == "" && TryMatMul(node))
                    && !(options.QuantizeEmbeddings && node.OpType == "Gather" && node.Domain == "" && TryGather(node)))
                    _nodes.Add(node);
            }
            graph.Nodes.Clear();
            graph.Nodes.AddRange(_nodes);
            graph.Initializers.AddRange(_newInitializers);
            RemoveUnused();
            return new Summary(_matMuls, _embeddings, _elements);
        }

        private bool TryMatMul(OnnxNode node)
        {
            if (!TryWeight(node.Inputs[1], out var weight, out var transposed)) return false;
            // W as [K, N] (in, out): stored [N, K] under a Transpose, else [K, N].
            long k = transposed ? weight.Dims[1] : weight.Dims[0], n = transposed ? weight.Dims[0] : weight.Dims[1];
            var w = weight.ToFloatArray();
            var scales = new float[options.PerChannel ? n : 1];
            for (long r = 0; r < k; r++)
                for (long c = 0; c < n; c++)
                {
                    var v = Math.Abs(transposed ? w[c * k + r] : w[r * n + c]);
                    var s = options.PerChannel ? c : 0;
                    if (v > scales[s]) scales[s] = v;
                }
            for (var s = 0; s < scales.Length; s++) scales[s] = scales[s] > 0 ? scales[s] / 127f : 1f;
            var q = new byte[k * n];   // [K, N] int8
            for (long r = 0; r < k; r++)
                for (long c = 0; c < n; c++)
                {
                    var v = transposed ? w[c * k + r] : w[r * n + c];
                    q[r * n + c] = (byte)(sbyte)Math.Clamp(MathF.Round(v / scales[options.PerChannel ? c : 0], MidpointRounding.ToEven), -127f, 127f);
                }

            var name = weight.Name;
            var qName = Add(new OnnxTensor(name + "_quantized", OnnxDataType.Int8, [k, n], q));
            var scaleName = Add(OnnxTensor.FromFloats(name + "_scale", options.PerChannel ? [n] : [], scales));
            var (xq, xScale, xZero) = QuantizedActivation(node.Inputs[0]);
            var path = node.Name.Length > 0 ? node.Name : node.Outputs[0];
            var integer = Emit("MatMulInteger", path + "/MatMulInteger", [xq, qName, xZero]);                            // (..., N) int32
            var asFloat = Emit("Cast", path + "/Cast", [integer], OnnxAttribute.Int("to", (long)OnnxDataType.Float));    // (..., N)
            var scale = Emit("Mul", path + "/scale", [xScale, scaleName]);                                             // (N) or ()
            _nodes.Add(new OnnxNode { Name = path + "/dequantize", OpType = "Mul", Inputs = [asFloat, scale], Outputs = [node.Outputs[0]] });
            _matMuls++;
            _elements += k * n;
            return true;
        }

        private bool TryGather(OnnxNode node)
        {
            if (node.FindAttribute("axis") is { I: not 0 }) return false;
            if (!_initializers.TryGetValue(node.Inputs[0], out var table) || table.DataType != OnnxDataType.Float || table.Dims.Length != 2
                || table.ElementCount < Math.Max(1, options.MinimumElements))
                return false;
            long rows = table.Dims[0], width = table.Dims[1];
            var e = table.ToFloatArray();
            var scales = new float[rows];
            var q = new byte[rows * width];   // [V, H] int8
            for (long r = 0; r < rows; r++)
            {
                var max = 0f;
                for (long c = 0; c < width; c++) max = Math.Max(max, Math.Abs(e[r * width + c]));
                var s = scales[r] = max > 0 ? max / 127f : 1f;
                for (long c = 0; c < width; c++)
                    q[r * width + c] = (byte)(sbyte)Math.Clamp(MathF.Round(e[r * width + c] / s, MidpointRounding.ToEven), -127f, 127f);
            }
            var qName = Add(new OnnxTensor(table.Name + "_quantized", OnnxDataType.Int8, [rows, width], q));
            var scaleName = Add(OnnxTensor.FromFloats(table.Name + "_scale", [rows], scales));
            var path = node.Name.Length > 0 ? node.Name : node.Outputs[0];
            var ids = node.Inputs[1];
            var rowsQ = Emit("Gather", path + "/rows", [qName, ids]);                                                  // (..., H) int8
            var rowScales = Emit("Gather", path + "/row_scales", [scaleName, ids]);                                     // (...)
            var asFloat = Emit("Cast", path + "/Cast", [rowsQ], OnnxAttribute.Int("to", (long)OnnxDataType.Float));     // (..., H)
            var axes = Add(OnnxTensor.FromInt64s(path + "/axes", [1], [-1]));
            var column = Emit("Unsqueeze", path + "/row_scales_column", [rowScales, axes]);                             // (..., 1)
            _nodes.Add(new OnnxNode { Name = path + "/dequantize", OpType = "Mul", Inputs = [asFloat, column], Outputs = [node.Outputs[0]] });
            _embeddings++;
            _elements += rows * width;
            return true;
        }

        /// <summary>A float32 2-D weight: an initializer, or a [1, 0] Transpose of one (then <paramref name="transposed"/>).</summary>
        private bool TryWeight(string input, out OnnxTensor weight, out bool transposed)
        {
            transposed = false;
            if (_initializers.TryGetValue(input, out weight!)) return IsQuantizable(weight);
            if (_producers.TryGetValue(input, out var producer) && producer.OpType == "Transpose" && producer.Domain == ""
                && producer.FindAttribute("perm") is { Ints: [1, 0] } && _initializers.TryGetValue(producer.Inputs[0], out weight!))
            {
                transposed = true;
                return IsQuantizable(weight);
            }
            weight = null!;
            return false;
        }

        private bool IsQuantizable(OnnxTensor t) =>
            t.DataType == OnnxDataType.Float && t.Dims.Length == 2 && t.ElementCount >= Math.Max(1, options.MinimumElements);

        private (string Q, string Scale, string ZeroPoint) QuantizedActivation(string x)
        {
            if (_quantizedActivations.TryGetValue(x, out var done)) return done;
            var path = x + "/DynamicQuantizeLinear";
            _nodes.Add(new OnnxNode { Name = path, OpType = "DynamicQuantizeLinear", Inputs = [x], Outputs = [x + "_quantized", x + "_scale", x + "_zero_point"] });
            return _quantizedActivations[x] = (x + "_quantized", x + "_scale", x + "_zero_point");
        }

        private string Emit(string opType, string name, string[] inputs, params OnnxAttribute[] attributes)
        {
            _nodes.Add(new OnnxNode { Name = name, OpType = opType, Inputs = [.. inputs], Outputs = [name], Attributes = [.. attributes] });
            return name;
        }

        private string Add(OnnxTensor tensor)
        {
            _newInitializers.Add(tensor);
            return tensor.Name;
        }

        /// <summary>Drops nodes whose outputs nothing reads (the Transposes of replaced weights) and initializers nothing reads.</summary>
        private void RemoveUnused()
        {
            var outputs = graph.Outputs.Select(o => o.Name).ToHashSet();
            bool removed;
            do
            {
                var read = graph.Nodes.SelectMany(n => n.Inputs).Concat(outputs).ToHashSet();
                removed = graph.Nodes.RemoveAll(n => n.Outputs.All(o => !read.Contains(o))) > 0;
            }
            while (removed);
            var used = graph.Nodes.SelectMany(n => n.Inputs).Concat(outputs).ToHashSet();
            graph.Initializers.RemoveAll(t => !used.Contains(t.Name));
        }
    }
}
