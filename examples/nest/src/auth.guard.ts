import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common'
import type { Request } from 'express'
import './user'

/** Demo users by bearer token. A real app checks a session or a JWT here. */
const USERS: Record<string, Express.User> = {
  'alice-token': { id: 'alice', name: 'Alice' },
  'bob-token': { id: 'bob', name: 'Bob' },
}

/**
 * Signs the caller in, as Passport's `AuthGuard` does: `req.user`, or a 401 that says what is
 * missing. Guards run after every middleware and before the controller, so the upload routes
 * (served by UploadsController) see the user.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>()
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1]
    const user = token === undefined ? undefined : USERS[token]
    if (!user) throw new UnauthorizedException('Sign in first: send `Authorization: Bearer <token>` (demo tokens: alice-token, bob-token).')
    request.user = user
    return true
  }
}
