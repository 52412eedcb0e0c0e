using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// Identity's sign-in manager, except that a user name it does not know still costs a password hash
/// (<see cref="DecoyPasswordCheck"/>): the stock one answers such names at once, which tells a guesser which names exist.
/// </summary>
public sealed class DecoyingSignInManager(
    UserManager<KaapanaUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<KaapanaUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<KaapanaUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<KaapanaUser> confirmation,
    DecoyPasswordCheck decoy)
    : SignInManager<KaapanaUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        var user = await UserManager.FindByNameAsync(userName);
        if (user is null)
        {
            decoy.Verify(password);
            return SignInResult.Failed;
        }
        return await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
    }
}
