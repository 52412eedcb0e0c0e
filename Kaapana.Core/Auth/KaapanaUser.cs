using Microsoft.AspNetCore.Identity;

namespace Kaapana.Core.Auth;

/// <summary>A local account that signs in to the UI (cookie) or calls <c>/api</c> and <c>/dicomweb</c> (HTTP Basic).</summary>
public sealed class KaapanaUser : IdentityUser
{
    public KaapanaUser()
    {
    }

    public KaapanaUser(string userName) : base(userName)
    {
    }
}
