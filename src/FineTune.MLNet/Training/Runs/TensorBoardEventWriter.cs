using Google.Protobuf;

namespace FineTune.MLNet.Training.Runs;

/// <summary>
/// A TensorBoard event file <c>events.out.tfevents.UNIXTIME.HOST</c>: TFRecords of <c>tensorflow.Event</c> protos
/// (<c>event.proto</c>: wall_time = 1, step = 2, file_version = 3, summary = 5, session_log = 7), the first one
/// <c>file_version: "brain.Event:2"</c>, then one event per report with a <c>Summary</c> of scalar values
/// (<c>summary.proto</c>: value = 1; Value.tag = 1, Value.simple_value = 2). A resumed run starts its file with a
/// <c>SessionLog</c> START at the resumed step, so TensorBoard drops the earlier files' points after it (TF's restart
/// convention). Each record is flushed as it is written.
/// </summary>
internal sealed class TensorBoardEventWriter : IDisposable
{
    public const string FilePrefix = "events.out.tfevents.";
    public const string FileVersion = "brain.Event:2";

    private readonly FileStream _stream;

    public TensorBoardEventWriter(string directory, DateTimeOffset now)
    {
        var stem = System.IO.Path.Combine(directory, $"{FilePrefix}{now.ToUnixTimeSeconds()}.{Host()}");
        Path = stem;
        for (var n = 1; File.Exists(Path); n++) Path = $"{stem}.{n}";
        _stream = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        WriteEvent(Seconds(now), 0, e => WriteString(e, 3, FileVersion));
    }

    public string Path { get; }

    /// <summary>SessionLog { status: START } at <paramref name="step"/>: TensorBoard discards the points of earlier files with a larger step.</summary>
    public void WriteSessionStart(DateTimeOffset now, long step) =>
        WriteEvent(Seconds(now), step, e => WriteMessage(e, 7, s => { s.WriteTag(1, WireFormat.WireType.Varint); s.WriteEnum(1); }));

    public void WriteScalars(DateTimeOffset now, long step, IReadOnlyList<RunScalar> scalars) =>
        WriteEvent(Seconds(now), step, e => WriteMessage(e, 5, summary =>
        {
            foreach (var scalar in scalars)
            {
                WriteMessage(summary, 1, value =>
                {
                    WriteString(value, 1, scalar.Tag);
                    value.WriteTag(2, WireFormat.WireType.Fixed32);
                    value.WriteFloat((float)scalar.Value);
                });
            }
        }));

    private void WriteEvent(double wallTime, long step, Action<CodedOutputStream> what)
    {
        var bytes = Message(e =>
        {
            e.WriteTag(1, WireFormat.WireType.Fixed64);
            e.WriteDouble(wallTime);
            if (step != 0)
            {
                e.WriteTag(2, WireFormat.WireType.Varint);
                e.WriteInt64(step);
            }
            what(e);
        });
        TfRecordWriter.WriteRecord(_stream, bytes);
        _stream.Flush();
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }
        return buffer.ToArray();
    }

    private static void WriteMessage(CodedOutputStream output, int field, Action<CodedOutputStream> write)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(Message(write)));
    }

    private static void WriteString(CodedOutputStream output, int field, string value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    private static double Seconds(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>The host name, with characters outside [A-Za-z0-9.-_] replaced, as it goes into a file name.</summary>
    private static string Host()
    {
        var host = Environment.MachineName;
        var chars = host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        return chars.Length == 0 ? "localhost" : new string(chars);
    }

    public void Dispose() => _stream.Dispose();
}
