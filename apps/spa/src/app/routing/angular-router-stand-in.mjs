// What the build puts in place of @angular/router (angular.json, `fileReplacements`; decision 0030).
// The app routes its pages without Angular's router (decision 0029), and angular-auth-oidc-client
// imports nothing from it but the `Router` class, as the token its services inject. That token is
// all this module gives: the OIDC chunk then carries none of the router's code. The library's
// router itself is `provideRouterForOidcLibrary` (library-router.ts). A build that imports any
// other name from @angular/router fails ("No matching export"); apps/spa/test/
// oidc-library-router.test.ts checks the library's imports against this module's exports.
export class Router {}
