namespace Kaapana.Dicom;

/// <summary>
/// Turns the values of (0008,0005) into a codec. Never fails: anything it cannot honour falls back to the default repertoire
/// for that value and is reported as a warning.
/// </summary>
internal static class CharacterSetTermResolver
{
    public static ITextCodec Resolve(IReadOnlyList<string> terms, List<string> warnings, out bool isDefault)
    {
        isDefault = false;
        var resolved = new DefinedTerm?[terms.Count];
        for (int i = 0; i < terms.Count; i++) resolved[i] = Lookup(terms[i], i, warnings);

        if (terms.Count <= 1)
        {
            var only = terms.Count == 1 ? resolved[0] : null;
            switch (only?.Kind)
            {
                case null or TermKind.Default:
                    isDefault = true;
                    return Iso2022Codec.DefaultRepertoire;
                case TermKind.WholeValue:
                    return WholeValue(only.WholeValue);
                case TermKind.SingleByte:
                    return new Iso2022Codec(false, only.G0!, only.G1, [only.G0!]);
            }
        }
        else if (resolved[0]?.Kind == TermKind.WholeValue)
        {
            warnings.Add($"'{terms[0]}' cannot be combined with code extensions (PS3.3 C.12.1.1.2); values 2..{terms.Count} of Specific Character Set ignored.");
            return WholeValue(resolved[0]!.WholeValue);
        }
        return BuildExtensions(terms, resolved, warnings);
    }

    private static Iso2022Codec BuildExtensions(IReadOnlyList<string> terms, DefinedTerm?[] resolved, List<string> warnings)
    {
        GraphicCharacterSet initialG0 = GraphicCharacterSets.Ascii;
        GraphicCharacterSet? initialG1 = null;
        var declared = new List<GraphicCharacterSet>();
        for (int i = 0; i < resolved.Length; i++)
        {
            var term = resolved[i];
            if (term is null)
            {
                // An empty (or unknown) value 1 means the default repertoire is the initial G0 (PS3.3 C.12.1.1.2).
                if (i == 0) declared.Add(GraphicCharacterSets.Ascii);
                continue;
            }
            if (term.Kind == TermKind.WholeValue)
            {
                warnings.Add($"'{terms[i]}' (value {i + 1}) cannot be used with code extensions; ignored.");
                if (i == 0) declared.Add(GraphicCharacterSets.Ascii);
                continue;
            }
            if (term.ExtensionForm is { } extension)
            {
                // "ISO_IR 100\ISO 2022 IR 87" and the like: the only workable reading is the ISO 2022 form of the same set.
                if (term.Kind == TermKind.SingleByte)
                    warnings.Add($"'{terms[i]}' (value {i + 1}) used with code extensions; read as '{extension.Term}'.");
                term = extension;
            }
            if (i == 0)
            {
                if (term.G0 is { IsAsciiCompatible: true } g0) initialG0 = g0;
                else if (term.G0 is not null)
                    warnings.Add($"'{terms[i]}' cannot be the initial G0 set (delimiters would be unreadable); ASCII used initially.");
                initialG1 = term.G1;
                if (term.G0 is null) declared.Add(GraphicCharacterSets.Ascii);
            }
            if (term.G0 is not null) declared.Add(term.G0);
            if (term.G1 is not null) declared.Add(term.G1);
        }
        return new Iso2022Codec(true, initialG0, initialG1, declared);
    }

    private static ITextCodec WholeValue(WholeValueEncoding encoding) => encoding switch
    {
        WholeValueEncoding.Gb18030 => new Gb18030Codec(),
        WholeValueEncoding.Gbk => new GbkCodec(),
        _ => new Utf8Codec(),
    };

    private static DefinedTerm? Lookup(string term, int index, List<string> warnings)
    {
        if (term.Length == 0)
        {
            if (index > 0) warnings.Add($"Value {index + 1} of Specific Character Set is empty; ignored.");
            return null;
        }
        if (DefinedTerms.Find(term) is { } exact) return exact;
        if (DefinedTerms.FindLoose(term) is { } loose)
        {
            warnings.Add($"'{term}' is not a defined term of Specific Character Set; read as '{loose.Term}'.");
            return loose;
        }
        warnings.Add($"Unknown Specific Character Set term '{term}' (value {index + 1}); the default repertoire is used for it.");
        return null;
    }
}
