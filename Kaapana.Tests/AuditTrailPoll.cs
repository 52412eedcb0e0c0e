using System.Net.Http.Json;
using System.Text.Json;

namespace Kaapana.Tests;

/// <summary>
/// Reads <c>/api/audit</c> until its entries satisfy a predicate (up to 30 s: the trail is written in batches, and DICOM
/// associations are summarised when they end). Returns the entries and the raw body (to check what must never be in it).
/// </summary>
public static class AuditTrailPoll
{
    public static async Task<(List<JsonElement> Items, string Body)> WaitAsync(HttpClient admin, string query, Func<List<JsonElement>, bool> done,
        Func<string>? context = null)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var body = await admin.GetStringAsync("/api/audit?" + query);
            var items = JsonDocument.Parse(body).RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();
            if (done(items)) return (items, body);
            if (DateTime.UtcNow > until)
                Assert.Fail($"/api/audit?{query} did not show the expected entries within 30 s; it returned:\n{body}\n{context?.Invoke()}");
            await Task.Delay(200);
        }
    }

    /// <summary>"actor:outcome" of each entry, for readable set checks.</summary>
    public static List<string> ActorOutcomes(IEnumerable<JsonElement> items) =>
        items.Select(e => $"{e.GetProperty("actor").GetString()}:{e.GetProperty("outcome").GetString()}").ToList();
}
