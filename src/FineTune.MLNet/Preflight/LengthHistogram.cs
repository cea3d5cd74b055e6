using System.Text;

namespace FineTune.MLNet.Preflight;

/// <summary>One bin of a <see cref="LengthHistogram"/>: lengths in <c>[From, To]</c> (tokens, both ends included).</summary>
public sealed record LengthBin(int From, int To, int Count);

/// <summary>
/// Token lengths in equal-width bins from 1 to the larger of the longest length and the maximum length, so the bins
/// past the maximum (what truncation cuts) show on their own; drawn as text bars.
/// </summary>
public static class LengthHistogram
{
    /// <summary>The bins of <paramref name="lengths"/> (at most <paramref name="binCount"/>; empty for no lengths).</summary>
    public static IReadOnlyList<LengthBin> Bins(IReadOnlyCollection<int> lengths, int maxLength, int binCount = 8)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (lengths.Count == 0) return [];
        int top = Math.Max(Math.Max(1, maxLength), lengths.Max());
        int width = Math.Max(1, (top + binCount - 1) / binCount);
        var counts = new int[(top + width - 1) / width];
        foreach (var length in lengths) counts[Math.Clamp((Math.Max(1, length) - 1) / width, 0, counts.Length - 1)]++;
        return counts.Select((c, i) => new LengthBin(i * width + 1, Math.Min(top, (i + 1) * width), c)).ToList();
    }

    /// <summary>One line per bin: the range, a bar of <c>#</c> scaled to the fullest bin, the count; bins above <paramref name="maxLength"/> are marked.</summary>
    public static string Draw(IReadOnlyList<LengthBin> bins, int maxLength, int barWidth = 40)
    {
        ArgumentNullException.ThrowIfNull(bins);
        if (bins.Count == 0) return "(no examples)";
        int fullest = Math.Max(1, bins.Max(b => b.Count));
        int labelWidth = bins.Max(b => $"{b.From}-{b.To}".Length);
        var text = new StringBuilder();
        foreach (var b in bins)
        {
            var bar = new string('#', (int)Math.Ceiling((double)barWidth * b.Count / fullest));
            var cut = b.To > maxLength ? "  (over --max-length)" : "";
            text.AppendLine($"{$"{b.From}-{b.To}".PadLeft(labelWidth)} | {bar.PadRight(barWidth)} {b.Count}{cut}");
        }
        return text.ToString().TrimEnd();
    }
}
