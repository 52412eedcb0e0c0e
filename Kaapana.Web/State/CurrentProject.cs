namespace Kaapana.Web.State;

/// <summary>
/// The project the user works in, per circuit. Pages read it and follow <see cref="Changed"/>; the browser also keeps it in
/// its URL so a shared link opens the same project. When sign-in arrives, the allowed projects come from the user.
/// </summary>
public sealed class CurrentProject
{
    public string? Name { get; private set; }

    public event Action? Changed;

    public void Set(string? name)
    {
        if (string.Equals(name, Name, StringComparison.Ordinal)) return;
        Name = name;
        Changed?.Invoke();
    }
}
