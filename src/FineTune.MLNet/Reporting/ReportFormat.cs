using System.Globalization;

namespace FineTune.MLNet.Reporting;

/// <summary>How the report prints numbers (invariant culture, so a report reads the same under every locale).</summary>
public static class ReportFormat
{
    /// <summary>A metric with four decimals; "–" when absent, "NaN" as such.</summary>
    public static string Number(double? value, string format = "F4") =>
        value is not { } v ? "–" : double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);

    /// <summary>A fraction as a percentage with one decimal ("87.5%").</summary>
    public static string Percent(double? value) => value is { } v && double.IsFinite(v) ? (100 * v).ToString("F1", CultureInfo.InvariantCulture) + "%" : Number(value);

    /// <summary>A signed change with four decimals ("+0.1234").</summary>
    public static string Change(double? before, double? after) =>
        before is { } b && after is { } a ? (a - b).ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture) : "–";

    /// <summary>A signed change of two fractions in percentage points ("+25.0 pts").</summary>
    public static string ChangePoints(double? before, double? after) =>
        before is { } b && after is { } a ? (100 * (a - b)).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " pts" : "–";

    /// <summary>Seconds as "12.3 s" or "4 min 05 s".</summary>
    public static string Duration(double? seconds) => seconds switch
    {
        null => "–",
        < 120 => seconds.Value.ToString("F1", CultureInfo.InvariantCulture) + " s",
        _ => $"{(int)(seconds.Value / 60)} min {(int)(seconds.Value % 60):D2} s",
    };

    /// <summary>Bytes as MiB or GiB.</summary>
    public static string Bytes(double? bytes) => bytes switch
    {
        null => "–",
        >= 1L << 30 => (bytes.Value / (1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        _ => (bytes.Value / (1L << 20)).ToString("F0", CultureInfo.InvariantCulture) + " MiB",
    };
}
