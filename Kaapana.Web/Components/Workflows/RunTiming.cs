using System.Globalization;
using Kaapana.Core.Archive.Index;

namespace Kaapana.Web.Components.Workflows;

/// <summary>Times and progress of runs and items as the workflow pages show them.</summary>
public static class RunTiming
{
    public static string Time(DateTime? t) => t is { } v ? v.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "";

    public static string Duration(DateTime? start, DateTime? end)
    {
        if (start is not { } s) return "";
        var d = (end ?? DateTime.UtcNow) - s;
        return d.TotalSeconds < 60 ? $"{d.TotalSeconds:0.0} s" : d.TotalMinutes < 60 ? $"{(int)d.TotalMinutes} min {d.Seconds} s" : $"{(int)d.TotalHours} h {d.Minutes} min";
    }

    /// <summary>"done/total" where done counts every item that has ended.</summary>
    public static string Progress(IReadOnlyDictionary<WorkState, int> counts)
    {
        int total = counts.Values.Sum();
        int done = counts.Where(c => c.Key is not (WorkState.Queued or WorkState.Running)).Sum(c => c.Value);
        return $"{done}/{total}";
    }
}
