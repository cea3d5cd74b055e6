using Microsoft.ML.Runtime;

namespace FineTune.MLNet.Training;

/// <summary>Writes plain messages (no format placeholders) to an ML.NET channel, so they reach <c>mlContext.Log</c>.</summary>
internal static class ChannelLog
{
    public static void Log(this IChannel channel, string message) => channel.Info(MessageSensitivity.None, "{0}", message);
}
