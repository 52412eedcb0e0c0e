namespace Kaapana.Server.Viewer;

public enum ViewerStatus
{
    Disabled,
    Installing,
    Ready,
    Failed,
}

/// <summary>What <c>/viewer</c> can serve right now.</summary>
/// <param name="Directory">The installed viewer (only when <see cref="ViewerStatus.Ready"/>).</param>
/// <param name="Message">Why it is not ready, for people reading the 503 page and the log.</param>
/// <param name="NextAttempt">When a failed install is tried again, if it is.</param>
public sealed record ViewerState(ViewerStatus Status, string Version, string? Directory, string Message, DateTimeOffset? NextAttempt = null);

/// <summary>The current <see cref="ViewerState"/>, swapped whole by the installer and read by every request.</summary>
public sealed class ViewerInstallState
{
    private volatile ViewerState _current;

    public ViewerInstallState(ViewerState initial) => _current = initial;

    public ViewerState Current => _current;

    public void Set(ViewerState state) => _current = state;
}
