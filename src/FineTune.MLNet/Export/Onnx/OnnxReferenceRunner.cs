using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FineTune.MLNet.Export.Onnx;

/// <summary>A float output of an ONNX model: row-major data and its shape.</summary>
public sealed record OnnxFloatOutput(float[] Data, long[] Shape);

/// <summary>
/// Runs a transformer ONNX model (e.g. a BERT export) with ONNX Runtime on token inputs of shape (B, T):
/// <c>input_ids</c>, and <c>attention_mask</c> / <c>token_type_ids</c> when the graph declares them. Serves as the
/// independent reference in parity tests and for serving exported models. CPU by default; CUDA on request
/// (see <see cref="OnnxRunnerOptions"/>).
/// </summary>
public sealed class OnnxReferenceRunner : IDisposable
{
    public const string InputIdsName = "input_ids";
    public const string AttentionMaskName = "attention_mask";
    public const string TokenTypeIdsName = "token_type_ids";

    private readonly InferenceSession _session;

    public OnnxReferenceRunner(string modelPath, OnnxRunnerOptions? options = null)
        : this(opts => new InferenceSession(modelPath, opts), options ?? new OnnxRunnerOptions()) { }

    public OnnxReferenceRunner(byte[] model, OnnxRunnerOptions? options = null)
        : this(opts => new InferenceSession(model, opts), options ?? new OnnxRunnerOptions()) { }

    private OnnxReferenceRunner(Func<SessionOptions, InferenceSession> open, OnnxRunnerOptions options)
    {
        options.Validate();
        (_session, UsesCuda) = CreateSession(open, options);
        InputNames = [.. _session.InputMetadata.Keys];
        FloatOutputNames = [.. _session.OutputMetadata
            .Where(o => o.Value.IsTensor && o.Value.ElementDataType == TensorElementType.Float)
            .Select(o => o.Key)];
        foreach (string name in InputNames)
        {
            if (name is not (InputIdsName or AttentionMaskName or TokenTypeIdsName))
            {
                _session.Dispose();
                throw new ArgumentException(
                    $"ONNX model input '{name}' is not one of {InputIdsName}, {AttentionMaskName}, {TokenTypeIdsName}; " +
                    $"this runner only feeds token inputs (model inputs: {string.Join(", ", InputNames)}).");
            }
        }
        if (!InputNames.Contains(InputIdsName))
        {
            _session.Dispose();
            throw new ArgumentException($"ONNX model has no '{InputIdsName}' input (inputs: {string.Join(", ", InputNames)}).");
        }
    }

    /// <summary>True when the session runs on the CUDA execution provider.</summary>
    public bool UsesCuda { get; }

    /// <summary>Inputs the graph declares, in graph order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Outputs of float tensor type, in graph order.</summary>
    public IReadOnlyList<string> FloatOutputNames { get; }

    /// <summary>
    /// Runs the model on a (B, T) batch given row-major. <paramref name="attentionMask"/> and
    /// <paramref name="tokenTypeIds"/> are used only if the graph declares them; when declared and null, the
    /// mask defaults to all ones and token types to zeros. Returns the requested float outputs (all by default).
    /// </summary>
    public Dictionary<string, OnnxFloatOutput> Run(
        long[] inputIds,
        long[]? attentionMask,
        long[]? tokenTypeIds,
        int batchSize,
        int sequenceLength,
        IReadOnlyCollection<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (batchSize < 1 || sequenceLength < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize ({batchSize}) and sequenceLength ({sequenceLength}) must be 1 or more.");
        }
        long count = (long)batchSize * sequenceLength;
        CheckLength(inputIds, count, nameof(inputIds));
        CheckLength(attentionMask, count, nameof(attentionMask));
        CheckLength(tokenTypeIds, count, nameof(tokenTypeIds));
        IReadOnlyCollection<string> outputs = outputNames ?? FloatOutputNames;
        foreach (string name in outputs.Where(n => !FloatOutputNames.Contains(n)))
        {
            throw new ArgumentException(
                $"'{name}' is not a float output of the model (float outputs: {string.Join(", ", FloatOutputNames)}).", nameof(outputNames));
        }

        long[] shape = [batchSize, sequenceLength];
        var values = new Dictionary<string, long[]>
        {
            [InputIdsName] = inputIds,
            [AttentionMaskName] = attentionMask ?? Enumerable.Repeat(1L, (int)count).ToArray(),
            [TokenTypeIdsName] = tokenTypeIds ?? new long[count],
        };
        var inputs = new Dictionary<string, OrtValue>();
        try
        {
            foreach (string name in InputNames)
            {
                inputs[name] = CreateTokenTensor(name, values[name], shape);
            }
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions, inputs, outputs);
            var named = new Dictionary<string, OnnxFloatOutput>();
            int index = 0;
            foreach (string name in outputs)
            {
                OrtValue value = results[index++];
                named[name] = new OnnxFloatOutput(
                    value.GetTensorDataAsSpan<float>().ToArray(),
                    value.GetTensorTypeAndShape().Shape);
            }
            return named;
        }
        finally
        {
            foreach (OrtValue value in inputs.Values)
            {
                value.Dispose();
            }
        }
    }

    public void Dispose() => _session.Dispose();

    private OrtValue CreateTokenTensor(string name, long[] data, long[] shape)
    {
        TensorElementType type = _session.InputMetadata[name].ElementDataType;
        return type switch
        {
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(data, shape),
            TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(data.Select(v => checked((int)v)).ToArray(), shape),
            _ => throw new NotSupportedException($"ONNX model input '{name}' has element type {type}; expected int64 or int32."),
        };
    }

    private static void CheckLength(long[]? data, long expected, string parameter)
    {
        if (data is not null && data.LongLength != expected)
        {
            throw new ArgumentException($"{parameter} has {data.LongLength} values, expected batchSize * sequenceLength = {expected}.", parameter);
        }
    }

    private static (InferenceSession, bool) CreateSession(Func<SessionOptions, InferenceSession> open, OnnxRunnerOptions options)
    {
        if (options.UseCuda)
        {
            SessionOptions cuda = BaseOptions(options);
            try
            {
                cuda.AppendExecutionProvider_CUDA(options.CudaDeviceId);
                return (open(cuda), true);
            }
            catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                if (!options.FallBackToCpu)
                {
                    throw new InvalidOperationException(
                        $"ONNX Runtime could not use CUDA device {options.CudaDeviceId} ({e.Message}). " +
                        "Install the CUDA 12 / cuDNN 9 runtime, or set FallBackToCpu to run on CPU.", e);
                }
            }
            finally
            {
                cuda.Dispose();
            }
        }
        using SessionOptions cpu = BaseOptions(options);
        return (open(cpu), false);
    }

    private static SessionOptions BaseOptions(OnnxRunnerOptions options)
    {
        var session = new SessionOptions();
        if (options.IntraOpThreads is int threads)
        {
            session.IntraOpNumThreads = threads;
        }
        return session;
    }
}
