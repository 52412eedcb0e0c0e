using System.Globalization;

namespace Kaapana.Dicom.Deidentification;

/// <summary>PS3.15 Table E.1-1 as rules (see <c>ConfidentialityProfileTable.Data.cs</c> for the source and the additions).</summary>
public static partial class ConfidentialityProfileTable
{
    private static readonly Lazy<(IReadOnlyList<ProfileRule> All, Dictionary<uint, ProfileRule> Exact, ProfileRule[] Patterns)> s_rules = new(Build);

    /// <summary>Every rule: the table's rows (with the conformance overrides applied) followed by the additions.</summary>
    public static IReadOnlyList<ProfileRule> Rules => s_rules.Value.All;

    /// <summary>The rule for a public tag, or null when the table does not list it. Private tags are handled by the caller.</summary>
    public static ProfileRule? Find(DicomTag tag)
    {
        var (_, exact, patterns) = s_rules.Value;
        if (exact.TryGetValue(tag.Value, out var rule)) return rule;
        foreach (var p in patterns)
            if (p.Matches(tag)) return p;
        return null;
    }

    private static (IReadOnlyList<ProfileRule>, Dictionary<uint, ProfileRule>, ProfileRule[]) Build()
    {
        var all = Parse(Rows, isAddition: false).Concat(Parse(AdditionalRows, isAddition: true)).ToList();
        foreach (var o in Parse(ConformanceOverrides, isAddition: true))
        {
            var i = all.FindIndex(r => r.Tag == o.Tag && r.Mask == o.Mask);
            if (i < 0) throw new InvalidOperationException($"Conformance override for {o.Tag}, which the table does not list.");
            all[i] = o;
        }
        var exact = new Dictionary<uint, ProfileRule>();
        foreach (var r in all.Where(r => r.Mask == 0xFFFFFFFF))
            if (!exact.TryAdd(r.Tag.Value, r)) throw new InvalidOperationException($"Table E.1-1 lists {r.Tag} twice.");
        return (all, exact, all.Where(r => r.Mask != 0xFFFFFFFF).ToArray());
    }

    private static IEnumerable<ProfileRule> Parse(string rows, bool isAddition)
    {
        foreach (var line in rows.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bar = line.IndexOf('|');
            var fields = line[..bar].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var (tag, mask) = ParsePattern(fields[0]);
            var options = new Dictionary<ConfidentialityOption, ProfileAction>();
            foreach (var f in fields.Skip(2))
                options[OptionOfColumn(f[0])] = ProfileActionCodes.Parse(f[2..]);
            yield return new ProfileRule(tag, mask, line[(bar + 1)..].Trim(), ProfileActionCodes.Parse(fields[1]), options, isAddition);
        }
    }

    /// <summary>"0008xxxx"-style pattern: x is a free hex digit.</summary>
    private static (DicomTag Tag, uint Mask) ParsePattern(string s)
    {
        uint value = 0, mask = 0;
        foreach (var c in s)
        {
            value <<= 4;
            mask <<= 4;
            if (c is 'x' or 'X') continue;
            value |= uint.Parse(c.ToString(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            mask |= 0xF;
        }
        return (new DicomTag(value), mask);
    }

    private static ConfidentialityOption OptionOfColumn(char column) => column switch
    {
        'F' => ConfidentialityOption.RetainLongitudinalFullDates,
        'M' => ConfidentialityOption.RetainLongitudinalModifiedDates,
        'P' => ConfidentialityOption.RetainPatientCharacteristics,
        'V' => ConfidentialityOption.RetainDeviceIdentity,
        'I' => ConfidentialityOption.RetainInstitutionIdentity,
        'U' => ConfidentialityOption.RetainUids,
        'D' => ConfidentialityOption.CleanDescriptors,
        'S' => ConfidentialityOption.CleanStructuredContent,
        'G' => ConfidentialityOption.CleanGraphics,
        _ => throw new FormatException($"Unknown option column '{column}'."),
    };
}
