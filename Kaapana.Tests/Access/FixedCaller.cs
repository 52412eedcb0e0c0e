using Kaapana.Core.Access;

namespace Kaapana.Tests.Access;

/// <summary>An <see cref="ICurrentCaller"/> for component tests without sign-in: always the given scope (by default the server itself).</summary>
public sealed class FixedCaller(AccessScope? scope = null) : ICurrentCaller
{
    public ValueTask<AccessScope> GetAsync(CancellationToken ct = default) => ValueTask.FromResult(scope ?? AccessScope.System);
}
