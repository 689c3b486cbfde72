/**
 * The signed-in user as the guard puts it on the request: what `@types/passport` declares for
 * `req.user`, so Passport's `AuthGuard('jwt')` fits the same place.
 */
declare global {
  namespace Express {
    interface User {
      id: string
      name: string
    }
    interface Request {
      user?: User
    }
  }
}

export {}
