using Xunit.Sdk;

namespace FineTune.MLNet.Tests.TestSupport;

/// <summary>
/// Float comparisons with an absolute and a relative tolerance, numpy's <c>isclose</c> rule:
/// <c>|actual − expected| ≤ atol + rtol·|expected|</c>. NaN or infinity never passes. Use these instead of
/// rounding to N decimals, which fails whenever two close values straddle a rounding boundary.
/// </summary>
internal static class Close
{
    /// <summary>Fails naming <paramref name="what"/>, both values, the difference and the allowed difference.</summary>
    public static void AssertClose(double expected, double actual, double atol, double rtol = 0, string what = "value")
    {
        if (atol < 0 || rtol < 0) throw new ArgumentOutOfRangeException(nameof(atol), "tolerances must be >= 0");
        var allowed = atol + rtol * Math.Abs(expected);
        var diff = Math.Abs(actual - expected);
        if (!double.IsFinite(expected) || !double.IsFinite(actual) || !(diff <= allowed))
        {
            throw new XunitException(
                $"{what}: expected {expected:R}, got {actual:R}; |difference| {diff:E3} exceeds {allowed:E3} (atol {atol:E1}, rtol {rtol:E1}).");
        }
    }

    /// <summary>
    /// Element-wise <see cref="AssertClose(double, double, double, double, string)"/> over two sequences of equal,
    /// non-zero length; returns how many values were compared (so a caller can assert it compared what it meant to).
    /// </summary>
    public static int AssertAllClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double atol, double rtol = 0, string what = "values")
    {
        if (expected.Count != actual.Count) throw new XunitException($"{what}: expected {expected.Count} values, got {actual.Count}.");
        if (expected.Count == 0) throw new XunitException($"{what}: nothing to compare (0 values).");
        for (var i = 0; i < expected.Count; i++) AssertClose(expected[i], actual[i], atol, rtol, $"{what}[{i}]");
        return expected.Count;
    }

    /// <inheritdoc cref="AssertAllClose(IReadOnlyList{double}, IReadOnlyList{double}, double, double, string)"/>
    public static int AssertAllClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double atol, double rtol = 0, string what = "values") =>
        AssertAllClose(expected.Select(v => (double)v).ToArray(), actual.Select(v => (double)v).ToArray(), atol, rtol, what);
}
