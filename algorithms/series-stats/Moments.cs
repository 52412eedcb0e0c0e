namespace Kaapana.Algorithms;

/// <summary>
/// Count, mean, population standard deviation, min and max in one pass (Welford), mergeable across series (Chan et al.),
/// so a long volume of values near -1000 HU loses no precision to a sum of squares.
/// </summary>
public sealed class Moments
{
    private double _m2;

    public long Count { get; private set; }
    public double Mean { get; private set; }
    public double Min { get; private set; } = double.PositiveInfinity;
    public double Max { get; private set; } = double.NegativeInfinity;
    public double StandardDeviation => Count > 0 ? Math.Sqrt(_m2 / Count) : 0;

    public void AddRange(ReadOnlySpan<double> values)
    {
        foreach (var v in values)
        {
            Count++;
            double delta = v - Mean;
            Mean += delta / Count;
            _m2 += delta * (v - Mean);
            if (v < Min) Min = v;
            if (v > Max) Max = v;
        }
    }

    public void Merge(Moments other)
    {
        if (other.Count == 0) return;
        long n = Count + other.Count;
        double delta = other.Mean - Mean;
        _m2 += other._m2 + delta * delta * Count * other.Count / n;
        Mean += delta * other.Count / n;
        Count = n;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
    }
}
